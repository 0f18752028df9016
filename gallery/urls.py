from django.urls import path

from . import views

app_name = "gallery"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/original/", views.original, name="original"),
    path("<int:pk>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("inputs/<int:pk>/", views.input_file, name="input_file"),
]
