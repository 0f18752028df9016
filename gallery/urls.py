from django.urls import path

from . import views

app_name = "gallery"
urlpatterns = [
    path("", views.index, name="index"),
    path("count/", views.count, name="count"),
    path("compare/", views.compare, name="compare"),
    path("pick/", views.pick, name="pick"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/original/", views.original, name="original"),
    path("<int:pk>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("<int:pk>/favourite/", views.favourite, name="favourite"),
    path("<int:pk>/tags/", views.tag_add, name="tag_add"),
    path("<int:pk>/tags/remove/", views.tag_remove, name="tag_remove"),
    path("<int:pk>/trash/", views.image_trash, name="image_trash"),
    path("inputs/<int:pk>/", views.input_file, name="input_file"),
    path("bulk/", views.bulk, name="bulk"),
    path("trash/", views.trash, name="trash"),
    path("tags/suggest/", views.tag_suggestions, name="tag_suggestions"),
    path("collections/", views.collections, name="collections"),
    path("collections/new/", views.collection_create, name="collection_create"),
    path("share/", views.share_create, name="share_create"),
    path("share/<int:pk>/revoke/", views.share_revoke, name="share_revoke"),
]
