"""A real IMAP server for the mail tests: Debian's Dovecot (``dovecot-imapd``), on a
free port of 127.0.0.1, with its configuration, mailbox and every state, log and
socket directory in a temporary directory of its own, so that it touches nothing of
the system's (and is never the system's own Dovecot). One user, plain-text login,
no TLS: a throwaway mailbox on the loopback interface.

Dovecot runs as the current user, all its processes as that one user; as root it
runs as the ``dovecot`` system user that the package creates, since Dovecot opens
no mailbox for uid 0. Without /usr/sbin/dovecot the tests that use it are skipped
(``apt-get install dovecot-imapd``; .ci/run installs it).

The fixtures: ``dovecot`` (the module's server, running, its mailbox emptied, the
MAIL_IMAP_* settings pointing at it) and ``dovecot_server`` (the module-scoped server
behind it); a test module imports ``dovecot_fixture`` and ``dovecot_server_fixture``.
``dovecot_running`` starts a server of its own (``capability`` without IDLE, say)."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path
from string import Template

import pytest
from imap_tools import BaseMailBox, MailBoxUnencrypted

from tests.ports import free_port

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "support", "imap-test-password"
# What Dovecot 2.3 offers after login, less IDLE: a server that can only be polled.
CAPABILITY_WITHOUT_IDLE = "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE UNSELECT NAMESPACE UIDPLUS CHILDREN MOVE"

CONFIG = Template("""\
# Written by tests/mail/dovecot.py: a throwaway server, everything under $root.
protocols = imap
listen = 127.0.0.1
base_dir = $root/run
state_dir = $root/state
log_path = $root/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = $user
default_internal_user = $user
default_internal_group = $group
first_valid_uid = $uid
first_valid_gid = $gid
mail_location = maildir:$root/mail/%u
$capability
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN $root/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$root/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
""")


def _group_alive(group: int) -> bool:
    """Whether a process of process group ``group`` still runs (zombies, which wait only
    for PID 1 to reap them, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group and fields[0] != "Z":  # state, ppid, pgrp
            return True
    return False


def _run_as() -> pwd.struct_passwd:
    return pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())


@dataclass
class Dovecot:
    """One Dovecot server: ``start``, ``stop``, ``restart`` (same port, same mailbox),
    and an IMAP client's view of its mailbox for the tests' givens and thens."""

    root: Path
    port: int
    capability: str = ""  # Dovecot's imap_capability; empty: its own (with IDLE)
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def write_config(self) -> None:
        account = _run_as()
        self.config.write_text(
            CONFIG.substitute(
                root=self.root,
                port=self.port,
                user=account.pw_name,
                group=grp.getgrgid(account.pw_gid).gr_name,
                uid=account.pw_uid,
                gid=account.pw_gid,
                capability=f"imap_capability = {self.capability}" if self.capability else "",
            )
        )
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        for path in (self.root, self.config, self.root / "users"):
            os.chown(path, account.pw_uid, account.pw_gid)

    def start(self, timeout: float = 15) -> None:
        """Start Dovecot in the foreground (``dovecot -F -c <conf>``) and wait until it answers."""
        account = _run_as()
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if os.geteuid() == 0 else {}
        with (self.root / "dovecot.out").open("ab") as out:
            self.process = subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **as_user,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Dovecot exited with {self.process.returncode}:\n{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Dovecot did not answer on port {self.port} within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        """Stop it as a service manager does (``systemctl stop``: SIGTERM to every process
        of the service): the master first, then whatever it left running. Dovecot's
        master alone leaves the processes serving clients alive, connections open, which
        a real restart (systemd ends the whole control group, or the machine goes) does not."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        group, self.process = self.process.pid, None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not _group_alive(group):
                return
            os.killpg(group, sig)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _group_alive(group):
                time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        paths = (self.root / "dovecot.out", self.root / "dovecot.log")
        return "".join(path.read_text(errors="replace") for path in paths if path.exists())[-4000:]

    # --- the mailbox, as a client sees it ---

    @contextmanager
    def mailbox(self) -> Iterator[BaseMailBox]:
        with MailBoxUnencrypted(self.host, self.port, timeout=10) as box:
            box.login(self.user, self.password, initial_folder=None)
            yield box

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver ``raw`` into ``folder``, as the provider's MTA would (IMAP APPEND)."""
        with self.mailbox() as box:
            box.append(raw, folder)

    def messages(self, folder: str = "INBOX") -> list[tuple[str, tuple[str, ...]]]:
        """(Message-ID, flags) of each message in ``folder``, in UID order (none when the
        folder does not exist); flags less ``\\Recent``, which depends on who looked first."""
        with self.mailbox() as box:
            if not box.folder.exists(folder):
                return []
            box.folder.set(folder, readonly=True)
            return [
                (m.obj["Message-ID"], tuple(flag for flag in m.flags if flag != "\\Recent"))
                for m in box.fetch(headers_only=True, mark_seen=False)
            ]

    def flags(self, folder: str = "INBOX") -> dict[str, tuple[str, ...]]:
        """Message-ID -> flags, in ``folder``."""
        return dict(self.messages(folder))

    def message_ids(self, folder: str = "INBOX") -> list[str]:
        """The Message-IDs in ``folder``, in UID order."""
        return [message_id for message_id, _ in self.messages(folder)]

    def empty(self) -> None:
        """Every folder but INBOX removed, INBOX emptied."""
        with self.mailbox() as box:
            # \\Noselect: a parent that exists only for its children, gone with them
            names = [f.name for f in box.folder.list() if f.name != "INBOX" and "\\Noselect" not in f.flags]
            folders = sorted(names, key=len, reverse=True)
            for name in folders:
                box.folder.delete(name)
            box.folder.set("INBOX")
            box.delete(box.uids())

    def settings(self) -> dict[str, object]:
        """The MAIL_IMAP_* settings that read this server."""
        return {
            "MAIL_IMAP_HOST": self.host,
            "MAIL_IMAP_PORT": self.port,
            "MAIL_IMAP_SECURITY": "none",
            "MAIL_IMAP_USER": self.user,
            "MAIL_IMAP_PASSWORD": self.password,
            "MAIL_IMAP_FOLDER": "INBOX",
            "MAIL_IMAP_DONE_FOLDER": "cs_desk/processed",
            "MAIL_IMAP_FAILED_FOLDER": "cs_desk/failed",
        }

    def environ(self) -> dict[str, str]:
        """The same, as the environment of a process the test starts (cs_desk.env reads it)."""
        return {name: str(value) for name, value in self.settings().items()}


@contextmanager
def dovecot_running(capability: str = "") -> Iterator[Dovecot]:
    """A Dovecot of its own, started, stopped and removed at the end."""
    if not DOVECOT.exists():
        pytest.skip(f"Dovecot is not installed at {DOVECOT} (apt-get install dovecot-imapd); CI installs it")
    root = Path(tempfile.mkdtemp(prefix="cs_desk_dovecot_"))
    server = Dovecot(root=root, port=free_port(), capability=capability)
    try:
        server.write_config()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# Named apart from their functions, so that a test module imports them without its
# tests' arguments (``dovecot``) shadowing the import.
@pytest.fixture(scope="module", name="dovecot_server")
def dovecot_server_fixture() -> Iterator[Dovecot]:
    with dovecot_running() as server:
        yield server


@pytest.fixture(name="dovecot")
def dovecot_fixture(dovecot_server: Dovecot, settings) -> Dovecot:
    """The module's Dovecot, running (a test may have stopped it), its mailbox empty,
    and the MAIL_IMAP_* settings pointing at it."""
    if not dovecot_server.running:
        dovecot_server.start()
    dovecot_server.empty()
    for name, value in dovecot_server.settings().items():
        setattr(settings, name, value)
    return dovecot_server


def raw_message(message_id: str, *, subject: str = "订单 20261130001 一直没有发货", body: str = "") -> bytes:
    """A consumer's email as the provider's MTA delivers it (CRLF line ends), with
    Message-ID ``<message_id>``."""
    message = EmailMessage()
    message["From"] = "王女士 <wang@example.cn>"
    message["To"] = "support@cs-desk.example"
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<{message_id}>"
    message.set_content(body or "你好，我的订单已经付款三天了，还没有发货，请帮忙查一下。")
    return message.as_bytes(policy=SMTP)
