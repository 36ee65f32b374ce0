from django.urls import path

from mail import views

app_name = "mail"
urlpatterns = [
    path("original/<int:pk>/", views.original, name="original"),
    path("original/<int:pk>/download/", views.original_download, name="original_download"),
]
