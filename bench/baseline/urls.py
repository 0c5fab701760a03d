from django.urls import path

from . import views

app_name = "bench"
urlpatterns = [
    path("insert", views.insert, name="insert"),
    path("row/<int:pk>", views.row, name="row"),
    path("ping", views.ping, name="ping"),
]
