"""An integrator's webhook receiver, written the way the README tells them to:
it recomputes the HMAC-SHA256 of ``<timestamp>.<body>`` with the shared secret,
compares it in constant time, and refuses a timestamp more than five minutes
away from its own clock (a replay)."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "whsec_test-secret"
TOLERANCE_S = 300


class Receiver:
    """An integrator's endpoint: verifies, records, answers ``statuses`` in turn."""

    def __init__(self, secret: str = SECRET):
        self.secret = secret
        self.statuses: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                verdict = receiver.verify(self.headers, body)
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append({"headers": headers, "body": body, "verdict": verdict})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if verdict != "ok":
                    status = 400
                self.send_response(status)
                self.end_headers()
                self.wfile.write(verdict.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cs-desk"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def verify(self, headers, body: bytes) -> str:
        timestamp = headers.get("x-cs-desk-timestamp", "")  # header names are case-insensitive
        sent = headers.get("x-cs-desk-signature", "")
        expected = "v1=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sent, expected):
            return "bad signature"
        if abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return "too old"
        return "ok"

    def events(self) -> list[str]:
        return [json.loads(r["body"])["event"] for r in self.received]
