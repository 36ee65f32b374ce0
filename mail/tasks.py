"""Celery tasks of the mail app: thin, idempotent."""

from celery import shared_task
from django.conf import settings

from mail.imap import imap_fetch_once, imap_mail_receive


@shared_task(ignore_result=True)
def mail_imap_poll_task() -> dict[str, int]:
    """Read the support mailbox once: each message in MAIL_IMAP_FOLDER to the mail
    pipeline (beat, every MAIL_IMAP_POLL_S, for servers without IDLE or where no
    ``manage.py mail_imap`` runs). Nothing when MAIL_IMAP_HOST is empty. Safe beside
    another run or the IDLE loop: the pipeline takes each message once."""
    if not settings.MAIL_IMAP_HOST:
        return {}
    return imap_fetch_once(imap_mail_receive)


@shared_task(ignore_result=True)
def mail_unfinished_task() -> int:
    """Finish the messages stored but left unprocessed (a worker died between
    storing and processing one): the database is the source of truth, not the
    delivery that brought them. Safe to run anywhere, any number of times."""
    from mail.inbound import mail_process, mail_unfinished

    done = 0
    for pk in mail_unfinished():
        mail_process(pk)
        done += 1
    return done
