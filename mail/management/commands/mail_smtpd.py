import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from cs_desk.stopping import stop_on_signals
from mail.smtpd import smtpd_serve


class Command(BaseCommand):
    help = (
        "Take mail for MAIL_DOMAIN over SMTP (the local receiver make run starts): each message to the mail "
        "pipeline, answered 250 once stored. Listens on MAIL_SMTPD_HOST:MAIL_SMTPD_PORT (127.0.0.1:2525) unless "
        "--host/--port say otherwise, until stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", help="address to listen on (default MAIL_SMTPD_HOST)")
        parser.add_argument("--port", type=int, help="port to listen on (default MAIL_SMTPD_PORT)")

    def handle(self, *args, host, port, **options):
        # aiosmtpd logs every command of every session at INFO (its logger "mail.log"),
        # the addresses included: only its warnings, unless asked for with -v 2.
        if options["verbosity"] < 2:
            logging.getLogger("mail.log").setLevel(logging.WARNING)
        host = host or settings.MAIL_SMTPD_HOST
        port = port if port is not None else settings.MAIL_SMTPD_PORT
        stop = stop_on_signals()  # the messages in hand are finished first
        self.stdout.write(f"mail_smtpd: taking mail for {settings.MAIL_DOMAIN} on {host}:{port}")
        smtpd_serve(host=host, port=port, stop=stop)
