"""The floor's URLconf: startproject's ``admin/``, and the baseline views under ``/bench/``
(the same paths as in Paylinks' benchmark server, so the same requests go to either)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("bench/", include("bench.baseline.urls")),
]
