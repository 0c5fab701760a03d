"""The benchmark URLconf: the baseline views under ``/bench/``, then all of Paylinks."""

from django.urls import include, path

urlpatterns = [
    path("bench/", include("bench.baseline.urls")),
    path("", include("project.urls")),
]
