"""The project's URLs plus views that fail, to see the 500 pages of each area."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from project.urls import handler403, handler404, handler500
from project.urls import urlpatterns as project_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("something broke")


urlpatterns = [
    path("boom/", boom),
    path("admin/boom/", boom),
    path("cms/boom/", boom),
    *project_urlpatterns,
]
__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
