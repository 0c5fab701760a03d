"""The analytics pages, inside the console (signed in, in the merchant's time zone)."""

from django.urls import path

from paylinks.admin.site import site

from . import views

app_name = "analytics"

urlpatterns = [
    path("", site.admin_view(views.AnalyticsView.as_view()), name="index"),
    path("support/", site.admin_view(views.SupportView.as_view()), name="support"),
]
