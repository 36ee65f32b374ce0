"""Settings of email in (the mail app), part of :mod:`cs_desk.settings.base`,
which imports them all. Configurable from the environment through :mod:`cs_desk.env`."""

from cs_desk import env

# Replies come back to signed addresses reply+<token>@MAIL_DOMAIN (tickets.reply_address);
# new complaints to <local part>@MAIL_DOMAIN, the local part choosing the category.
MAIL_DOMAIN = env.env_str("MAIL_DOMAIN", "cs-desk.example")
MAIL_CATEGORY_ADDRESSES = {  # local part -> category code; anything else: MAIL_DEFAULT_CATEGORY
    "appeal": "account-appeal",
    "orders": "order-error",
    "refund": "refund",
    "fraud": "fraud",
}
MAIL_DEFAULT_CATEGORY = env.env_str("MAIL_DEFAULT_CATEGORY", "other")
MAIL_MAX_BYTES = env.env_int("MAIL_MAX_BYTES", 25 * 1024 * 1024)  # a whole message, attachments included
MAIL_SENDER_LIMIT = env.env_str("MAIL_SENDER_LIMIT", "20/h")  # messages one sender may have processed
# A provider's webhook posts a whole message as a form field (up to MAIL_MAX_BYTES, base64
# adds a third): Django's 2.5 MB default would refuse a reply with one photo. Request
# bodies stay capped by RequestBodyLimitMiddleware (EVIDENCE_MAX_REQUEST_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = MAIL_MAX_BYTES * 4 // 3 + 1024 * 1024
# The mailbox polled over IMAP (none when MAIL_IMAP_HOST is empty).
MAIL_IMAP_HOST = env.env_str("MAIL_IMAP_HOST")
MAIL_IMAP_PORT = env.env_int("MAIL_IMAP_PORT", 993)
MAIL_IMAP_SECURITY = env.env_str("MAIL_IMAP_SECURITY", "ssl")  # ssl, starttls or none (tests, localhost)
MAIL_IMAP_USER = env.env_str("MAIL_IMAP_USER")
MAIL_IMAP_PASSWORD = env.env_str("MAIL_IMAP_PASSWORD")
MAIL_IMAP_FOLDER = env.env_str("MAIL_IMAP_FOLDER", "INBOX")
MAIL_IMAP_DONE_FOLDER = env.env_str("MAIL_IMAP_DONE_FOLDER", "cs_desk/processed")
MAIL_IMAP_FAILED_FOLDER = env.env_str("MAIL_IMAP_FAILED_FOLDER", "cs_desk/failed")
MAIL_IMAP_POLL_S = env.env_float("MAIL_IMAP_POLL_S", 10)
MAIL_IMAP_TIMEOUT_S = env.env_float("MAIL_IMAP_TIMEOUT_S", 30)
MAIL_IMAP_WORKERS = env.env_int("MAIL_IMAP_WORKERS", 2)  # manage.py mail_imap: processes running the pipeline
# True: a long-running `manage.py mail_imap` (IDLE) reads the mailbox, and beat does not
# poll it; False: beat polls every MAIL_IMAP_POLL_S. Never both: a message in flight
# would be handed over twice (harmless, the pipeline takes it once, but wasteful).
MAIL_IMAP_IDLE = env.env_bool("MAIL_IMAP_IDLE", True)
# The local SMTP receiver make run starts (manage.py mail_smtpd).
MAIL_SMTPD_HOST = env.env_str("MAIL_SMTPD_HOST", "127.0.0.1")
MAIL_SMTPD_PORT = env.env_int("MAIL_SMTPD_PORT", 2525)
# A provider's inbound webhook (django-anymail), mounted at /mail/anymail/<provider>/inbound/
# only when MAIL_WEBHOOK_SECRET is set: every post must carry it as HTTP basic auth
# ("user:password", given to the provider in the URL: https://user:password@host/mail/anymail/…).
# Mailgun also signs its posts: its endpoint is there once its webhook signing key is set.
ANYMAIL = {"WEBHOOK_SECRET": env.env_str("MAIL_WEBHOOK_SECRET")}
if env.env_str("MAIL_MAILGUN_WEBHOOK_SIGNING_KEY"):
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = env.env_str("MAIL_MAILGUN_WEBHOOK_SIGNING_KEY")
