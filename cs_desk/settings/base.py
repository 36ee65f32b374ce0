"""Settings shared by every environment. Everything configurable comes from the
environment through :mod:`cs_desk.env`. Importing settings starts nothing: the
embedded servers of ``make run`` are started by ``cs_desk.launcher`` alone, which
hands their addresses to its children in the environment.

Use a module for an environment, never this one directly: ``dev`` (the default
of manage.py, WSGI, ASGI and Celery), ``test`` or ``production``."""

from datetime import timedelta

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from cs_desk import env

BASE_DIR = env.BASE_DIR

SECRET_KEY = env.env_str("SECRET_KEY")
DEBUG = env.env_bool("DEBUG", False)
ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "cs_desk.apps.CsDeskAdminConfig",  # django.contrib.admin with cs_desk's site (cs_desk.admin)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # The domain at the bottom (and the parties it serves, accounts, below it); the
    # apps beside it use it; the model-less UI apps on top use them all
    # (docs/architecture.md; import-linter keeps it so).
    "accounts",
    "tickets",
    "merchants",
    "feedback",
    "integrations",
    "desk",
    "complaints",
    "reports",
    "mail",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "cs_desk.middleware.ApiLanguageMiddleware",
    "cs_desk.middleware.InputGuardMiddleware",
    # Before anything reads the body (the CSRF check parses POST data).
    "cs_desk.middleware.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out sign-in into the lockout page (cs_desk.signin).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cs_desk.urls"
WSGI_APPLICATION = "cs_desk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database and Redis: from the environment only (see the module docstring) ---
DATABASE_URL = env.env_str("DATABASE_URL")


def database_settings(url: str) -> dict:
    """The default database's settings for ``url``. Without JIT compilation: a
    report's query over a quarter's tickets crossed its cost threshold and spent
    40-50 ms compiling to save less (bench/RESULTS.md, issue 21)."""
    settings = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    settings.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return settings


DATABASES = {}
if DATABASE_URL:
    DATABASES["default"] = database_settings(DATABASE_URL)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: broker for Celery, cache for the app.
CELERY_BROKER_URL = env.env_str("CELERY_BROKER_URL") or env.env_str("REDIS_URL")
REDIS_URL = env.env_str("REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cs_desk",
    }
}

# The tracking page is kept rendered per version of its ticket (complaints.page_cache):
# a changed ticket is a new key, so this only bounds the memory of pages nobody reloads.
TRACKING_PAGE_CACHE_S = env.env_int("TRACKING_PAGE_CACHE_S", 3600)

# --- Real time: Django Channels (cs_desk.asgi), its channel layer on the same Redis ---
# The pages are served by gunicorn (WSGI); the WebSockets by an ASGI server beside it.
# LIVE_URL: where the browser reaches that server (ws://host:port, wss:// behind TLS);
# empty when a proxy in front routes /ws/ to it on the pages' own origin.
LIVE_URL = env.env_str("LIVE_URL").rstrip("/")
ASGI_APPLICATION = "cs_desk.asgi.application"
# The layer waits for messages with BZPOPMIN of 5 s; redis-py's default read timeout is
# also 5 s, and a read that loses that race raises in the one receive loop every socket
# of the process shares, closing them all (seen under load by bench/chat.py). Reads wait
# longer than the layer's blocking pop. Every socket of one server process shares one
# Redis queue, and a send to a queue holding ``capacity`` messages is dropped without a
# word: the layer's default, 100, lost chat messages at 30 busy agents (bench/chat.py);
# CHANNEL_CAPACITY is per server process.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "prefix": "cs_desk:ws:",
            "capacity": env.env_int("CHANNEL_CAPACITY", 10_000),
        },
    }
}

# --- Sign-in: django-axes counts failed sign-ins on every login form (desk,
# merchant portal, admin) by account and by client address; at the limit that
# account, or that address, is refused for the cool-off (429, cs_desk.signin).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "cs_desk.signin.client_address"
AXES_LOCKOUT_CALLABLE = "cs_desk.signin.lockout_response"
# Successful sign-ins are not logged (failures are: AccessAttempt).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Pauses end by themselves after the cool-off; an administrator lifts one early with
# manage.py axes_reset_username / axes_reset_ip (axes's admin pages are not shown:
# they are untranslated and list the addresses and user agents of every attempt).
AXES_ENABLE_ADMIN = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation: Simplified Chinese first, English on request ---
LANGUAGE_CODE = env.env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}  # Files served at the site's root by WhiteNoise: /favicon.ico (browsers ask for it on
# every first visit; a 404 each time filled the logs).
WHITENOISE_ROOT = BASE_DIR / "cs_desk" / "root"


# --- Email: Django's backend, configured from EMAIL_* ---
EMAIL_BACKEND = env.env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.env_str("EMAIL_FILE_PATH", str(env.DATA_DIR / "mail"))  # for the filebased backend
EMAIL_HOST = env.env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env.env_str("DEFAULT_FROM_EMAIL", "cs_desk <noreply@cs-desk.example>")

# --- Email in (the mail app): MAIL_*, ANYMAIL, the upload size a provider's post needs ---
from cs_desk.settings.mail import *  # noqa: E402, F403

# --- Celery ---
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Early acknowledgement: every task is re-done by the next sweep or outbox
# re-sweep if its message is lost, so acks_late buys nothing, and with it a
# Redis restart while a message is unacknowledged crashed the worker
# ("Restoring unacknowledged messages" -> AttributeError in kombu).
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(env.DATA_DIR / "celerybeat-schedule")
# The SLA sweep has a queue of its own, served by a worker of its own (cs_desk.launcher,
# celery_commands), so that no backlog of deliveries and no dead webhook receiver on the
# default queue ("celery", everything else) can hold an escalation back.
# The chat offers' expiry runs beside it, for the same reason: an offer lapses in seconds.
CELERY_TASK_ROUTES = {
    "tickets.tasks.sla_sweep_task": {"queue": "sla"},
    "tickets.tasks.chat_offers_task": {"queue": "sla"},
}
# Time limits: no task may hold a worker process for long (a dead receiver, a stuck
# SMTP server). At the soft limit SoftTimeLimitExceeded is raised in the task; at the
# hard one its process is killed and replaced. The sweep and the outbox have their own.
CELERY_TASK_SOFT_TIME_LIMIT = env.env_int("CELERY_TASK_SOFT_TIME_LIMIT_S", 600)
CELERY_TASK_TIME_LIMIT = env.env_int("CELERY_TASK_TIME_LIMIT_S", 660)
# A sweep commits batch by batch: one stopped by its limit loses only the batch in hand.
SLA_SWEEP_SOFT_TIME_LIMIT_S = env.env_int("SLA_SWEEP_SOFT_TIME_LIMIT_S", 300)
SLA_SWEEP_TIME_LIMIT_S = env.env_int("SLA_SWEEP_TIME_LIMIT_S", 330)
# The outbox (tickets.outbox: emails and webhooks). A delivery task claims no new
# message after OUTBOX_TASK_BUDGET_S (the rest stay due for the re-sweep); its soft
# limit leaves the message in hand time to finish (EMAIL_TIMEOUT / WEBHOOK_TIMEOUT_S
# per network step); the hard limit is the backstop. A claimed message's lease
# outlasts the hard limit, so its sender is dead or done before another may take it.
OUTBOX_TASK_BUDGET_S = env.env_float("OUTBOX_TASK_BUDGET_S", 60)
OUTBOX_SOFT_TIME_LIMIT_S = env.env_int("OUTBOX_SOFT_TIME_LIMIT_S", 120)
OUTBOX_TIME_LIMIT_S = env.env_int("OUTBOX_TIME_LIMIT_S", 150)
OUTBOX_LEASE_S = max(env.env_float("OUTBOX_LEASE_S", OUTBOX_TIME_LIMIT_S + 30), OUTBOX_TIME_LIMIT_S + 1)
# How many due messages of each channel one re-sweep takes, and how often it runs.
OUTBOX_RESWEEP_BATCH = env.env_int("OUTBOX_RESWEEP_BATCH", 500)
OUTBOX_RESWEEP_INTERVAL_S = env.env_float("OUTBOX_RESWEEP_INTERVAL_S", 30)
_OUTBOX_LIMITS = {"soft_time_limit": OUTBOX_SOFT_TIME_LIMIT_S, "time_limit": OUTBOX_TIME_LIMIT_S}
_SWEEP_LIMITS = {"soft_time_limit": SLA_SWEEP_SOFT_TIME_LIMIT_S, "time_limit": SLA_SWEEP_TIME_LIMIT_S}
CELERY_TASK_ANNOTATIONS = {
    "tickets.tasks.sla_sweep_task": _SWEEP_LIMITS,
    "tickets.tasks.notifications_deliver_task": _OUTBOX_LIMITS,
    "tickets.tasks.outbox_resweep_task": _OUTBOX_LIMITS,
    "integrations.tasks.webhooks_deliver_task": _OUTBOX_LIMITS,
}

# How often the SLA sweep runs (each second: one indexed query when nothing is due), and
# how many more sweepers one may call in on a backlog (tickets.tasks.sla_sweep_task).
# One helper suits a worker with two processes; raise it with the concurrency.
SLA_SWEEP_INTERVAL_S = env.env_float("SLA_SWEEP_INTERVAL_S", 1)
SLA_SWEEP_HELPERS = env.env_int("SLA_SWEEP_HELPERS", 1)

# Live chat: how long an agent has to accept a chat offered to them before it passes
# to the next (tickets.services.chat), and how often lapsed offers are passed on.
CHAT_OFFER_TIMEOUT_S = env.env_float("CHAT_OFFER_TIMEOUT_S", 20)
CHAT_OFFERS_INTERVAL_S = env.env_float("CHAT_OFFERS_INTERVAL_S", 1)

# Every periodic job, in one place. Intervals come from the environment.
CELERY_BEAT_SCHEDULE = {
    # The SLA sweep: takes every escalation step that has come due. The source of
    # truth for deadlines; it is safe to run on every worker at once.
    "sla-sweep": {
        "task": "tickets.tasks.sla_sweep_task",
        "schedule": timedelta(seconds=SLA_SWEEP_INTERVAL_S),
        "options": {"expires": SLA_SWEEP_INTERVAL_S},
    },
    # Chat offers not accepted in time pass to the next agent; live chats waiting in a
    # queue are offered to an agent who has come free (tickets.services.chat).
    "chat-offers": {
        "task": "tickets.tasks.chat_offers_task",
        "schedule": timedelta(seconds=CHAT_OFFERS_INTERVAL_S),
        "options": {"expires": CHAT_OFFERS_INTERVAL_S},
    },
    # The outbox re-sweep, for every channel (emails, webhooks): writes the webhooks
    # of ticket events whose fan-out was lost, and delivers what is due: retries,
    # expired leases (a worker killed mid-send), rows whose dispatch was lost.
    "outbox-resweep": {
        "task": "tickets.tasks.outbox_resweep_task",
        "schedule": timedelta(seconds=OUTBOX_RESWEEP_INTERVAL_S),
        "options": {"expires": OUTBOX_RESWEEP_INTERVAL_S},
    },
    # Merchant scores and the penalty ladder, then the risk signals, once a day
    # (Shanghai time). Both are safe to run again; staff can also run them on demand.
    "merchant-scores": {
        "task": "merchants.tasks.merchant_scores_task",
        "schedule": crontab(hour=2, minute=0),
        "options": {"expires": 3600},
    },
    "merchant-risk-signals": {
        "task": "merchants.tasks.merchant_risk_signals_task",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 3600},
    },
    # Evidence files written for a transaction that rolled back later (never
    # referenced by an attachment): removed an hour after they were written.
    "evidence-orphans": {
        "task": "tickets.tasks.evidence_orphans_task",
        "schedule": crontab(minute=17),
        "options": {"expires": 3600},
    },
    # The managers' daily digest of yesterday (sent once per day, whoever runs it).
    "daily-digest": {
        "task": "reports.tasks.daily_digest_task",
        "schedule": crontab(hour=env.env_int("DAILY_DIGEST_HOUR", 8), minute=0),
        "options": {"expires": 3600},
    },
    # The SLA report's rollups: the ledger the triggers append to, folded into the
    # day counts and histograms (the report reads what is left, so a late run only
    # costs the report time).
    "sla-rollups-compact": {
        "task": "reports.tasks.sla_rollups_compact_task",
        "schedule": timedelta(seconds=env.env_int("REPORTS_ROLLUP_INTERVAL_S", 60)),
        "options": {"expires": env.env_int("REPORTS_ROLLUP_INTERVAL_S", 60)},
    },
    # Incoming mail stored but left unprocessed (a worker died in between): finished.
    "mail-unfinished": {
        "task": "mail.tasks.mail_unfinished_task",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 60},
    },
}
if MAIL_IMAP_HOST and not MAIL_IMAP_IDLE:
    # The support mailbox polled by beat, when no `manage.py mail_imap` waits in IDLE on it.
    CELERY_BEAT_SCHEDULE["mail-imap-poll"] = {
        "task": "mail.tasks.mail_imap_poll_task",
        "schedule": timedelta(seconds=MAIL_IMAP_POLL_S),
        "options": {"expires": MAIL_IMAP_POLL_S},
    }

# Webhooks (integrations.webhooks): how long a receiver has to answer, and how
# many attempts a delivery gets before it is given up.
WEBHOOK_TIMEOUT_S = env.env_float("WEBHOOK_TIMEOUT_S", 10)
WEBHOOK_MAX_ATTEMPTS = env.env_int("WEBHOOK_MAX_ATTEMPTS", 8)
# The webhooks catch-up (integrations.fanout) trusts that every ticket event id below
# the newest it saw has committed or rolled back this long afterwards: longer than
# any transaction that writes ticket events stays open.
WEBHOOK_CATCH_UP_SETTLE_S = env.env_float("WEBHOOK_CATCH_UP_SETTLE_S", 300)
# Webhook deliveries to loopback, private, link-local and cloud-metadata addresses
# are refused unless this is set (a receiver on the same host or network).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
# Also send the signature headers from before Standard Webhooks (X-CS-Desk-Delivery,
# X-CS-Desk-Timestamp, X-CS-Desk-Signature) for receivers not yet moved to
# webhook-signature. That signature does not cover the delivery id (a captured
# request replays under a fresh id within the tolerance): turn it off once every
# receiver verifies webhook-signature.
WEBHOOK_LEGACY_SIGNATURE = env.env_bool("WEBHOOK_LEGACY_SIGNATURE", True)

# Absolute base of links in emails (tracking pages).
SITE_URL = env.env_str("SITE_URL", "http://127.0.0.1:8000")

# --- SLA engine ---
SLA_SWEEP_BATCH_SIZE = env.env_int("SLA_SWEEP_BATCH_SIZE", 1000)
# A new email not yet tried is left to its on-commit dispatch this long, then the
# outbox re-sweep takes it; an email gets NOTIFICATION_MAX_ATTEMPTS attempts.
NOTIFICATION_RESWEEP_AFTER = timedelta(seconds=env.env_int("NOTIFICATION_RESWEEP_AFTER_S", 120))
NOTIFICATION_MAX_ATTEMPTS = env.env_int("NOTIFICATION_MAX_ATTEMPTS", 8)

# --- Merchants: score, penalty ladder, risk signals ---
# Score = 100 − WEIGHT × (% of forwarded complaints left unanswered) − penalty points,
# over the rolling window, clamped to 0..100.
MERCHANT_SCORE_WINDOW_DAYS = env.env_int("MERCHANT_SCORE_WINDOW_DAYS", 30)
MERCHANT_SCORE_UNANSWERED_WEIGHT = env.env_float("MERCHANT_SCORE_UNANSWERED_WEIGHT", 0.5)
# The penalty ladder: each step is imposed when the merchant's strikes in the
# window reach its threshold, and lifted when they fall below it again.
# Removal is only proposed; an administrator confirms it.
MERCHANT_PENALTY_LADDER = [
    {"kind": "warning", "strikes": env.env_int("MERCHANT_LADDER_WARNING", 2)},
    {
        "kind": "point_deduction",
        "strikes": env.env_int("MERCHANT_LADDER_DEDUCTION", 3),
        "points": env.env_float("MERCHANT_LADDER_DEDUCTION_POINTS", 5),
    },
    {"kind": "search_demotion", "strikes": env.env_int("MERCHANT_LADDER_DEMOTION", 5)},
    {"kind": "promotion_exclusion", "strikes": env.env_int("MERCHANT_LADDER_PROMOTIONS", 8)},
    {"kind": "removal", "strikes": env.env_int("MERCHANT_LADDER_REMOVAL", 12)},
]
# Risk signals: a new merchant is one registered within NEW_DAYS; its complaint
# volume over the window is "high" at or above this percentile of all merchants
# with complaints (and at least MIN complaints). Odd hours are local hours
# [START, END); a share of replies at least ODD_SHARE (of at least ODD_MIN replies)
# is a signal. A burst is BURST_COUNT replies within BURST_MINUTES.
MERCHANT_RISK_NEW_DAYS = env.env_int("MERCHANT_RISK_NEW_DAYS", 30)
MERCHANT_RISK_VOLUME_PERCENTILE = env.env_float("MERCHANT_RISK_VOLUME_PERCENTILE", 0.95)
MERCHANT_RISK_VOLUME_MIN = env.env_int("MERCHANT_RISK_VOLUME_MIN", 3)
MERCHANT_RISK_ODD_HOURS = (env.env_int("MERCHANT_RISK_ODD_START", 1), env.env_int("MERCHANT_RISK_ODD_END", 6))
MERCHANT_RISK_ODD_SHARE = env.env_float("MERCHANT_RISK_ODD_SHARE", 0.5)
MERCHANT_RISK_ODD_MIN = env.env_int("MERCHANT_RISK_ODD_MIN", 5)
MERCHANT_RISK_BURST_COUNT = env.env_int("MERCHANT_RISK_BURST_COUNT", 10)
MERCHANT_RISK_BURST_MINUTES = env.env_int("MERCHANT_RISK_BURST_MINUTES", 5)

# --- Reports: staffing next week (the volume report; reports.selectors.staffing) ---
# Chat: the share of chats to answer within the chat policy's first-response target
# (Erlang C's service level; 0.8 is "80 % within the target").
STAFFING_CHAT_SERVICE_LEVEL = env.env_float("STAFFING_CHAT_SERVICE_LEVEL", 0.8)
# Tickets: the share of an agent's hour spent handling tickets (the rest is breaks,
# meetings, reading up); the hours of work per hour are divided by it.
STAFFING_OCCUPANCY = env.env_float("STAFFING_OCCUPANCY", 0.85)
# Handle times assumed, in seconds, until the last 28 days have measured enough
# (20 chats ended; 20 tickets with agents' working time).
STAFFING_CHAT_HANDLE_S = env.env_int("STAFFING_CHAT_HANDLE_S", 300)
STAFFING_TICKET_HANDLE_S = env.env_int("STAFFING_TICKET_HANDLE_S", 900)

# --- Content-Security-Policy on every response (django-csp): scripts, styles,
# fonts and pictures only from our own origin; no inline script or style (every
# page's script and style is a static file), no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the admin's and Swagger UI's small icons; blob: for the
        # complaint form's previews of the pictures a consumer picked.
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF, *([LIVE_URL] if LIVE_URL else [])],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Staff sign-in (the agent desk) ---
LOGIN_URL = "desk:login"
LOGIN_REDIRECT_URL = "desk:queue"

# --- The consumer's pages ---
# Evidence files: outside the static and media URL space, served only by the
# views that check who is asking (complaints.views.evidence).
EVIDENCE_ROOT = env.env_str("EVIDENCE_ROOT", str(env.DATA_DIR / "evidence"))
# The longest message anyone may write: a complaint, a reply, a note, a merchant's
# answer (tickets.rules, enforced by the services for every door).
MESSAGE_MAX_CHARS = env.env_int("MESSAGE_MAX_CHARS", 10_000)
EVIDENCE_MAX_FILES = env.env_int("EVIDENCE_MAX_FILES", 5)
EVIDENCE_MAX_FILE_BYTES = env.env_int("EVIDENCE_MAX_FILE_MB", 10) * 1024 * 1024
# A request's whole body may hold every file at its limit plus the typed fields;
# anything larger is refused from its Content-Length, before the body is read.
EVIDENCE_MAX_REQUEST_BYTES = EVIDENCE_MAX_FILES * EVIDENCE_MAX_FILE_BYTES + 1024 * 1024
# A bound on the parts of one request (Django refuses more with a 400).
DATA_UPLOAD_MAX_NUMBER_FILES = EVIDENCE_MAX_FILES * 2
# Anti-abuse limits as (requests, per seconds), counted in Redis over a sliding
# window (cs_desk.ratelimit): per client IP, per contact from that IP, per
# tracking token. The consumer forms count only what they accepted.
RATE_LIMITS = {
    "complaint_ip": (env.env_int("RATE_COMPLAINTS_PER_IP_HOUR", 10), 3600),
    "complaint_contact": (env.env_int("RATE_COMPLAINTS_PER_CONTACT_HOUR", 5), 3600),
    "reply_ip": (env.env_int("RATE_REPLIES_PER_IP_HOUR", 60), 3600),
    "reply_ticket": (env.env_int("RATE_REPLIES_PER_TICKET_HOUR", 20), 3600),
    "feedback_ip": (env.env_int("RATE_FEEDBACK_PER_IP_HOUR", 10), 3600),
    # Guessing: wrong tracking tokens and wrong API keys per client address in 15
    # minutes, after which the address is refused (429) until the window slides.
    "token_guess": (env.env_int("RATE_TOKEN_MISSES_PER_IP", 20), 900),
    "api_key_guess": (env.env_int("RATE_API_KEY_MISSES_PER_IP", 10), 900),
    # The API (cs_desk.api throttles): per user or token, and per address for anonymous callers.
    "api_user": (env.env_int("API_RATE_USER_PER_MINUTE", 600), 60),
    "api_anon": (env.env_int("API_RATE_ANON_PER_MINUTE", 60), 60),
    # WebSocket connections per user (a reconnecting page needs a few; a loop is refused).
    "socket_user": (env.env_int("SOCKET_CONNECTS_PER_USER_MINUTE", 30), 60),
    # The consumer's chat sockets per client address, and chat messages per chat and
    # per address (a chat is quicker than the tracking page's replies).
    "socket_ip": (env.env_int("SOCKET_CONNECTS_PER_IP_MINUTE", 60), 60),
    "chat_ticket": (env.env_int("CHAT_MESSAGES_PER_CHAT_MINUTE", 30), 60),
    "chat_ip": (env.env_int("CHAT_MESSAGES_PER_IP_MINUTE", 120), 60),
}
# How many proxies in front of the web server append to X-Forwarded-For; 0 means
# REMOTE_ADDR is the client (the default run command serves directly).
TRUSTED_PROXY_COUNT = env.env_int("TRUSTED_PROXY_COUNT", 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that an anonymous caller gets 401 with WWW-Authenticate: Bearer.
        "integrations.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["cs_desk.throttles.UserThrottle", "cs_desk.throttles.AnonThrottle"],
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "cs_desk.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "cs_desk.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "cs_desk API",
    "DESCRIPTION": (
        "The helpdesk's REST API (v1). Authenticate with `Authorization: Bearer <token>`: a staff token "
        "(css_…) acts as its user, a merchant token (csm_…) reaches only /api/v1/merchant/. A browser "
        "signed in to the desk may use its session cookie instead; then every POST and PATCH also needs the "
        "header `X-CSRFToken` with the value of the `csrftoken` cookie. Lists are paged by a cursor: pass "
        "each page's `next_cursor` as `cursor` (or follow `next`). Every error is JSON "
        "`{code, message}`; validation errors add `errors`, each field with its problems. Answers follow "
        "Accept-Language (zh-hans by default, en); this schema is in English. "
        "Webhooks: POST with a JSON body, signed the Standard Webhooks way (webhook-id, webhook-timestamp, "
        "webhook-signature; see the README)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # In English whatever the caller's language (cs_desk.api.schema).
    "DEFAULT_GENERATOR_CLASS": "cs_desk.api.schema.SchemaGenerator",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set (several models have a "status").
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "PriorityEnum": "tickets.models.Priority",
        "ChannelEnum": "tickets.models.Ticket.Channel",
        "IntakeChannelEnum": "desk.api.serializers.INTAKE_CHANNELS",
        "TargetStatusEnum": "tickets.models.SLATarget.Status",
        "TargetKindEnum": "tickets.models.SLATarget.Kind",
        "MerchantStatusEnum": "accounts.models.Merchant.Status",
        "MerchantVerificationEnum": "accounts.models.Merchant.Verification",
        "PenaltyKindEnum": "merchants.models.MerchantPenalty.Kind",
        "PenaltyStatusEnum": "merchants.models.MerchantPenalty.Status",
        "FeedbackTopicEnum": "feedback.models.Feedback.Topic",
        "PublicAuthorEnum": "merchants.api.serializers.PUBLIC_AUTHORS",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failed sign-ins are in the admin (lockouts); its INFO lines are noise.
        "axes": {"level": "WARNING"},
    },
}
