from django.urls import path

from . import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("<id:pk>/", views.team_detail, name="detail"),
    path("<id:pk>/invite/", views.invite, name="invite"),
    path("<id:pk>/invitations/<id:invitation_pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("<id:pk>/members/<id:membership_pk>/role/", views.member_role, name="member_role"),
    path("<id:pk>/members/<id:membership_pk>/remove/", views.member_remove, name="member_remove"),
    path("<id:pk>/activity/", views.activity, name="activity"),
    path("<id:pk>/budget/", views.budget, name="budget"),
    path("join/<str:token>/", views.accept, name="accept"),
]
