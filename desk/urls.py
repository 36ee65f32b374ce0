"""The agent desk (inside i18n_patterns: Chinese at /desk/, English at /en/desk/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from desk import alerts, chats
from desk import views as desk

app_name = "desk"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="desk/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="desk:login"), name="logout"),
    path("", desk.queue, name="queue"),
    path("tickets/<int:pk>/", desk.workspace, name="ticket"),
    path("tickets/<int:pk>/files/<int:attachment_id>/", desk.evidence, name="evidence"),
    path("tickets/<int:pk>/claim/", desk.claim, name="claim"),
    path("tickets/<int:pk>/assign/", desk.assign, name="assign"),
    path("tickets/<int:pk>/status/", desk.change_status, name="status"),
    path("tickets/<int:pk>/priority/", desk.change_priority, name="priority"),
    path("tickets/<int:pk>/reply/", desk.reply, name="reply"),
    path("tickets/<int:pk>/forward/", desk.forward, name="forward"),
    path("tickets/<int:pk>/merge/", desk.merge, name="merge"),
    path("tickets/<int:pk>/presence/", desk.presence, name="presence"),
    path("tickets/<int:pk>/answers/", desk.canned_answers, name="answers"),
    path("bulk/", desk.bulk, name="bulk"),
    path("phone/", desk.phone_call, name="phone"),
    path("export.csv", desk.export, name="export"),
    path("profile/", desk.profile, name="profile"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/seen/", alerts.alerts_seen, name="alerts_seen"),
    path("availability/", chats.availability, name="availability"),
    path("chats/", chats.board, name="chats"),
    path("tickets/<int:pk>/chat/accept/", chats.accept, name="chat_accept"),
    path("tickets/<int:pk>/chat/decline/", chats.decline, name="chat_decline"),
    path("tickets/<int:pk>/chat/end/", chats.end, name="chat_end"),
]
