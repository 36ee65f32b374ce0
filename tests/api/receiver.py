"""An integrator's webhook receiver, written the way the README tells them to:
it verifies each request with the ``standardwebhooks`` package and the secret
exactly as the admin shows it (the signature covers ``webhook-id``,
``webhook-timestamp`` and the body; a timestamp more than five minutes away is
refused), and, while the helpdesk still sends it, checks the legacy
``X-CS-Desk-Signature`` the old way, with the secret an integrator was given
before Standard Webhooks.

It counts the connections it accepts (a refused destination gets none), can
answer with a redirect, can take its time to answer (``stalls``: seconds to wait,
after recording the request, before answering it; one per request), and can
speak TLS (recording the server name each client asked for)."""

import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

# The secret an integrator was given before Standard Webhooks, and the same key as the
# admin shows it since (migration 0002: whsec_ and the base64 of the old text).
LEGACY_SECRET = "cs_desk test receiver, 32 bytes!"
SECRET = "whsec_" + base64.b64encode(LEGACY_SECRET.encode()).decode()
TOLERANCE_S = 300

VERDICTS = {
    "Missing required headers": "missing headers",
    "Invalid Signature Headers": "bad timestamp",
    "Message timestamp too old": "too old",
    "Message timestamp too new": "too new",
    "No matching signature found": "bad signature",
}


class Receiver:
    """An integrator's endpoint: verifies, records, answers ``statuses`` in turn
    (or a redirect to ``redirect_to``)."""

    def __init__(self, secret: str = SECRET, *, legacy_secret: str = LEGACY_SECRET, tls: ssl.SSLContext | None = None):
        self.secret = secret
        self.legacy_secret = legacy_secret
        self.statuses: list[int] = []
        self.stalls: list[float] = []
        self.redirect_to: str | None = None
        self.received: list[dict] = []
        self.connections = 0
        self.server_names: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                verdict = receiver.verify(self.headers, body)
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append({"headers": headers, "body": body, "verdict": verdict, "path": self.path})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.stalls:
                    time.sleep(receiver.stalls.pop(0))  # the request is in; the answer comes late
                if verdict != "ok":
                    status = 400
                elif receiver.redirect_to:
                    status = 302
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", receiver.redirect_to)
                self.end_headers()
                self.wfile.write(verdict.encode())

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def get_request(self):
                sock, address = super().get_request()
                receiver.connections += 1
                if tls is not None:
                    sock = tls.wrap_socket(sock, server_side=True)  # the handshake, here
                return sock, address

        if tls is not None:
            tls.sni_callback = lambda _sslobj, name, _context: self.server_names.append(name)
        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/hooks/cs-desk"
        # Polled every 50 ms for shutdown (not the default 0.5 s): each test's teardown waits for it.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def verify(self, headers, body: bytes) -> str:
        """ "ok", or why the request is refused."""
        headers = {name.lower(): value for name, value in headers.items()}  # names are case-insensitive
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            return VERDICTS.get(str(exc), str(exc))
        except ValueError:  # a signature that is not "v1,<base64>"
            return "bad signature"
        if "x-cs-desk-signature" in headers:
            return self.verify_legacy(headers, body)
        return "ok"

    def verify_legacy(self, headers, body: bytes) -> str:
        """The check the README gave integrators before Standard Webhooks."""
        headers = {name.lower(): value for name, value in headers.items()}
        timestamp = headers.get("x-cs-desk-timestamp", "")
        sent = headers.get("x-cs-desk-signature", "")
        mac = hmac.new(self.legacy_secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        if not hmac.compare_digest(sent, "v1=" + mac.hexdigest()):
            return "bad legacy signature"
        if abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return "legacy too old"
        return "ok"

    def events(self) -> list[str]:
        return [json.loads(r["body"])["event"] for r in self.received]


def fake_dns(monkeypatch, names: dict[str, list[str]]) -> list[str]:
    """Make ``socket.getaddrinfo`` answer ``names`` (host → addresses; an empty
    list: the name does not exist); any other host is resolved as usual.
    Returns the list of the names looked up, in order, one entry per lookup."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in names:
            return real(host, port, family, type, proto, flags)
        looked_up.append(host)
        if not names[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        entries = []
        for address in names[host]:
            if ":" in address:
                entries.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 0, 0, 0)))
            else:
                entries.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0)))
        return entries

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up
