from django.urls import path

from . import views

app_name = "sandbox"
urlpatterns = [
    path("checkout/<str:session_id>", views.checkout, name="checkout"),
    path("checkout/<str:session_id>/authenticate", views.authenticate, name="authenticate"),
]
