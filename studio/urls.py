from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gallery import views as gallery_views

from . import views

studio_patterns = (
    [
        path("", views.home, name="home"),
        path("generate/", views.generate, name="generate"),
        path("edit/", views.edit, name="edit"),
        path("size-check/", views.size_check, name="size_check"),
        path("options/", views.options, name="options"),
        path("prompts/", views.prompts, name="prompts"),
        path("jobs/<id:pk>/", views.job_card, name="job_card"),
        path("jobs/<id:pk>/cancel/", views.job_cancel, name="job_cancel"),
        path("jobs/<id:pk>/preview/", views.job_preview, name="job_preview"),
    ],
    "studio",
)

urlpatterns = [
    path("", include(studio_patterns)),
    path("gallery/", include("gallery.urls")),
    path("teams/", include("teams.urls")),
    # Share links open for anyone, without an account.
    path("s/<str:token>/", gallery_views.share_page, name="share"),
    path("s/<str:token>/<int:position>/<str:kind>/", gallery_views.share_file, name="share_file"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
