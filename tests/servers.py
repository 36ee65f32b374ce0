"""``make run``'s serving processes started for a test or a benchmark: ``web``
(gunicorn, the pages over WSGI) or ``live`` (uvicorn, the WebSockets of
``cs_desk.asgi``), exactly as ``cs_desk.launcher.child_commands`` runs them, on a
free port of 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cs_desk.launcher import child_commands
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]


class Served:
    """The process ``name`` with the environment ``env``, its output in
    ``directory/<name>.log``; listening once the constructor returns."""

    def __init__(self, name: str, directory: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        port = str(self.port)
        command = child_commands(sys.executable, port=port, live_port=port, smtp=("127.0.0.1", "0"), schedule="")[name]
        self.log = directory / f"{name}.log"
        # A session of its own: stop() ends the server's workers with it, whatever state they are in.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not listen:\n{self.log.read_text()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The process and the processes it started (a server's workers), from /proc."""
        pending, found = [self.process.pid], []
        while pending:
            pid = pending.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        return found

    def rss_kib(self) -> int:
        """The resident memory of the process and of the processes it started."""
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def stop(self) -> None:
        """Stop it as make run does (SIGTERM, a graceful shutdown), then make sure
        none of its processes outlives it: a worker left behind (uvicorn's, spawned
        by multiprocessing) would hold the test database and memory until the end."""
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def session_cookie(user) -> str:
    """The Cookie header of a browser signed in as ``user``."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class ServedForTest(Served):
    """The process ``name`` on the running test's database and Redis (a test marked
    ``django_db(transaction=True)``, so that the process sees what the test wrote)."""

    def __init__(self, name: str, directory: Path, *, live_url: str = "", **environ: str) -> None:
        from django.conf import settings
        from django.db import connection

        db = connection.settings_dict
        env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"}
        env |= {
            "DJANGO_SETTINGS_MODULE": "cs_desk.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.REDIS_URL,
            "LIVE_URL": live_url,
            **environ,
        }
        super().__init__(name, directory, env)
