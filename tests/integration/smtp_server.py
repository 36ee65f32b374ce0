"""A tiny SMTP server for the fault tests: it speaks just enough SMTP for
Django's SMTP backend (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps
every message whose data it received, and can be told, message by message, to
misbehave the way real servers and networks do:

* ``"hold_before_250"``: the message is in, the server says nothing until the
  test calls ``release()`` (``message_in`` is set when it has the message);
* ``"hold_at_quit"``: the message is accepted (250), then the reply to QUIT
  waits for ``release()`` (``at_quit`` is set when the client is waiting there:
  the server has the message, the client has not recorded it yet);
* ``("delay", seconds)``: the 250 comes that much later (after the client's
  timeout, say); the message is kept all the same.
"""

from __future__ import annotations

import email
import socketserver
import threading
import time


class SMTPServer:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.plan: list = []  # what to do with each next message (popped; then behave)
        self.message_in = threading.Event()
        self.at_quit = threading.Event()
        self._release = threading.Event()
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text: str) -> bool:
                try:
                    self.wfile.write(text.encode() + b"\r\n")
                    self.wfile.flush()
                    return True
                except OSError:  # the client has gone (timed out, killed)
                    return False

            def handle(self) -> None:
                self.reply("220 cs_desk-test ESMTP")
                hold_at_quit = False
                while line := self.rfile.readline():
                    verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 cs_desk-test")
                    elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        hold_at_quit = smtp._receive(self)
                    elif verb == "QUIT":
                        if hold_at_quit:
                            smtp.at_quit.set()
                            smtp._release.wait(60)
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _receive(self, handler) -> bool:
        """Read one message's data, keep it, answer as planned. Returns whether
        to hold the reply to the QUIT that follows."""
        lines = []
        while (line := handler.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        self.messages.append(b"".join(lines))
        step = self.plan.pop(0) if self.plan else None
        self.message_in.set()
        if step == "hold_before_250":
            self._release.wait(60)
        elif isinstance(step, tuple) and step[0] == "delay":
            time.sleep(step[1])
        handler.reply("250 OK: queued")
        return step == "hold_at_quit"

    def release(self) -> None:
        self._release.set()

    def message_ids(self) -> list[str]:
        return [email.message_from_bytes(raw)["Message-ID"] for raw in self.messages]

    def __enter__(self) -> SMTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
