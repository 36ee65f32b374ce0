import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from cs_desk.stopping import stop_on_signals
from mail.imap import MailLanes, imap_fetch_once, imap_idle, imap_mail_receive


class Command(BaseCommand):
    help = (
        "Read the support mailbox over IMAP (MAIL_IMAP_*): each message to the mail pipeline, then to "
        "MAIL_IMAP_DONE_FOLDER. Keeps reading, in IDLE where the server offers it, else every MAIL_IMAP_POLL_S "
        "seconds, and reconnects when the server goes away; --once reads what is there, prints the counts as JSON "
        "and stops."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="read the mailbox once and stop")
        mode.add_argument("--idle", action="store_true", help="keep reading until stopped (the default)")
        parser.add_argument("--limit", type=int, default=100, help="messages per read (default 100)")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes running the pipeline side by side (default MAIL_IMAP_WORKERS; 1: in this process)",
        )

    def handle(self, *args, once, idle, limit, workers, **options):
        if not settings.MAIL_IMAP_HOST:
            raise CommandError(gettext("MAIL_IMAP_HOST is not set: there is no mailbox to read."), returncode=2)
        workers = settings.MAIL_IMAP_WORKERS if workers is None else workers
        handle = MailLanes(imap_mail_receive, workers) if workers > 1 else imap_mail_receive
        try:
            if isinstance(handle, MailLanes):
                handle.start()
            self._read(handle, once=once, limit=limit)
        finally:
            if isinstance(handle, MailLanes):
                handle.close()

    def _read(self, handle, *, once: bool, limit: int) -> None:
        if once:
            self.stdout.write(json.dumps(imap_fetch_once(handle, limit=limit), sort_keys=True))
            return
        imap_idle(handle, stop=stop_on_signals(), limit=limit)  # the message in hand is finished first
