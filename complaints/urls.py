"""The consumer's pages (inside i18n_patterns: Chinese at /, English at /en/)."""

from django.urls import path

from complaints import chat
from complaints import views as consumer

app_name = "complaints"

urlpatterns = [
    path("complaints/new/", consumer.complaint_new, name="complaint_new"),
    path("complaints/shops/", consumer.shop_search, name="shop_search"),
    path("chat/", chat.chat_new, name="chat_new"),
    path("t/<str:token>/chat/", chat.chat, name="chat"),
    path("t/<str:token>/chat/picture/", chat.chat_picture, name="chat_picture"),
    path("t/<str:token>/", consumer.tracking, name="tracking"),
    path("t/<str:token>/submitted/", consumer.complaint_submitted, name="complaint_submitted"),
    path("t/<str:token>/survey/", consumer.survey, name="survey"),
    path("t/<str:token>/files/<int:attachment_id>/", consumer.evidence, name="evidence"),
]
