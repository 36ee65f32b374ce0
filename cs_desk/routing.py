"""Every WebSocket path (the HTTP ones are in cs_desk.urls)."""

from django.urls import path

from complaints.live import ChatSocket
from desk.live import DeskSocket

websocket_urlpatterns = [
    path("ws/desk/", DeskSocket.as_asgi()),
    path("ws/chat/<str:token>/", ChatSocket.as_asgi()),
]
