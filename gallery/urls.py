from django.urls import path

from . import views

app_name = "gallery"
urlpatterns = [
    path("", views.index, name="index"),
    path("count/", views.count, name="count"),
    path("compare/", views.compare, name="compare"),
    path("pick/", views.pick, name="pick"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/original/", views.original, name="original"),
    path("<id:pk>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("<id:pk>/favourite/", views.favourite, name="favourite"),
    path("<id:pk>/tags/", views.tag_add, name="tag_add"),
    path("<id:pk>/tags/remove/", views.tag_remove, name="tag_remove"),
    path("<id:pk>/trash/", views.image_trash, name="image_trash"),
    path("inputs/<id:pk>/", views.input_file, name="input_file"),
    path("bulk/", views.bulk, name="bulk"),
    path("trash/", views.trash, name="trash"),
    path("tags/suggest/", views.tag_suggestions, name="tag_suggestions"),
    path("collections/", views.collections, name="collections"),
    path("collections/new/", views.collection_create, name="collection_create"),
    path("share/", views.share_create, name="share_create"),
    path("share/<id:pk>/revoke/", views.share_revoke, name="share_revoke"),
]
