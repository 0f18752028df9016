from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gallery import views as gallery_views

from . import spend_views, views

studio_patterns = (
    [
        path("", views.home, name="home"),
        path("generate/", views.generate, name="generate"),
        path("edit/", views.edit, name="edit"),
        path("size-check/", views.size_check, name="size_check"),
        path("options/", views.options, name="options"),
        path("prompts/", views.prompts, name="prompts"),
        path("jobs/live/", views.jobs_live, name="jobs_live"),
        path("jobs/<id:pk>/", views.job_card, name="job_card"),
        path("jobs/<id:pk>/cancel/", views.job_cancel, name="job_cancel"),
        path("jobs/<id:pk>/preview/", views.job_preview, name="job_preview"),
        path("spend/", spend_views.spend, name="spend"),
        path("spend/ledger.csv", spend_views.spend_csv, name="spend_csv"),
        path("spend/team/<id:pk>/", spend_views.spend_team, name="spend_team"),
        path("spend/team/<id:pk>/ledger.csv", spend_views.spend_team_csv, name="spend_team_csv"),
        path("spend/all/", spend_views.spend_all, name="spend_all"),
        path("spend/all/ledger.csv", spend_views.spend_all_csv, name="spend_all_csv"),
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
