"""Every WebSocket path (the HTTP ones are in cs_desk.urls)."""

from django.urls import path

from desk.live import DeskSocket

websocket_urlpatterns = [
    path("ws/desk/", DeskSocket.as_asgi()),
]
