"""The Content-Security-Policy: every HTML page carries the strict policy of
cs_desk/settings/base.py, and nothing we write needs it loosened — no inline
script or style in our templates, in the HTML our Python code builds, or in the
pages as served. ReDoc's page is the one exception, for its own styles and its
search worker (cs_desk/urls.py, REDOC_CSP), and still runs no inline script.

Real browsers under the policy: tests/browser/test_csp.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.builders import ticket_filed
from tests.factories import UserFactory
from tests.merchants.helpers import forwarded, shop
from tickets import services

ROOT = Path(__file__).resolve().parents[2]
# Not ours, or not code: the virtualenv, the run's data, caches, the test suite.
SKIPPED = {".venv", ".data", ".git", "node_modules", "tests", "bench", "__pycache__", ".ruff_cache", ".pytest_cache"}

# The policy of cs_desk/settings/base.py, directive by directive.
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# ReDoc's page: the policy plus its own style elements (a nonce and two hashes) and
# its search worker (cs_desk/urls.py explains).
REDOC_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
]

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE = {
    "a <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "a javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE),
}


def inline_code(html: str) -> list[str]:
    """What in ``html`` a strict policy refuses: scripts without ``src`` (a JSON
    data block excepted), style elements and attributes, on…= handlers."""
    found = []
    for match in SCRIPT_TAG.finditer(html):
        attrs = match.group(1)
        if not re.search(r"\ssrc\s*=", attrs) and not re.search(
            r"""\stype\s*=\s*["']?application/json""", attrs, re.IGNORECASE
        ):
            found.append(f"an inline script: {match.group(0)}")
    for what, pattern in INLINE.items():
        found += [f"{what}: {html[m.start() : m.end() + 30]!r}" for m in pattern.finditer(html)]
    return found


def our_files(pattern: str) -> list[Path]:
    return sorted(path for path in ROOT.rglob(pattern) if not SKIPPED & set(path.relative_to(ROOT).parts[:-1]))


def parse(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} given twice"
        directives[name] = sources
    return directives


# --- (a) Our templates and the HTML our Python code builds ---


def test_the_scan_finds_what_the_policy_refuses():
    for html in [
        "<script>alert(1)</script>",
        "<SCRIPT type='text/javascript'>x()</SCRIPT>",
        "<style>p { color: red }</style>",
        '<p style="color: red">',
        '<button type="button" onclick="window.print()">',
        '<a href="javascript:history.back()">',
    ]:
        assert inline_code(html), html
    for html in [
        '<script src="/static/desk/desk.js"></script>',
        '<script src="/static/complaints/public.js" data-your-time="your time"></script>',
        '<script id="data" type="application/json">{"a": 1}</script>',
        '<link rel="stylesheet" href="/static/desk/desk.css">',
        '<rect class="cell" fill-opacity="0.5"/>',
        "<p>Choose one (stylesheets, or a photo on file).</p>",
    ]:
        assert not inline_code(html), html


def test_every_template_directory_is_scanned():
    directories = {path.relative_to(ROOT).parts[0] for path in our_files("templates/**/*.html")}
    assert {"tickets", "merchants", "feedback"} <= directories


@pytest.mark.parametrize("path", our_files("templates/**/*.*"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_style(path):
    assert inline_code(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", our_files("*.py"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_python_module_builds_inline_script_or_style(path):
    """String literals that look like markup (template tags, widgets, admin columns)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    markup = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"<[a-z]", node.value)
    ]
    assert [problem for text in markup for problem in inline_code(text)] == []


# --- (b) and (c) The header on the pages as served ---


@pytest.fixture
def ticket(category, agent):
    ticket = ticket_filed(category, requester_email="lina@example.cn")
    services.ticket_reply(ticket=ticket, author=agent, body="您好，我们已联系财务核实。", public=True)
    return ticket


@pytest.fixture
def pages(client, ticket, agent, manager):
    """Each representative page: its URL and who reads it (None: anyone)."""
    merchant, merchant_user = shop()
    forwarded(ticket.category, merchant, agent)
    root = get_user_model().objects.create_superuser("root", "root@staff.example", "pass12345")
    return {
        "complaint form": (reverse("complaints:complaint_new"), None),
        "tracking page": (reverse("complaints:tracking", args=[ticket.tracking_token]), None),
        "desk queue": (reverse("desk:queue"), agent),
        "ticket workspace": (reverse("desk:ticket", args=[ticket.pk]), agent),
        "merchant portal": (reverse("merchant:complaints"), merchant_user),
        "SLA report": (reverse("reports:sla"), manager),
        "merchant scorecards": (reverse("merchant_reports:list"), UserFactory(username="boss", is_superuser=True)),
        "admin changelist": (reverse("admin:tickets_ticket_changelist"), root),
        "admin change form": (reverse("admin:tickets_ticket_change", args=[ticket.pk]), root),
        "API docs": (reverse("api-docs"), None),
        "desk sign-in": (reverse("desk:login"), None),
        "admin sign-in": (reverse("admin:login"), None),
    }


PAGES = [
    "complaint form",
    "tracking page",
    "desk queue",
    "ticket workspace",
    "merchant portal",
    "SLA report",
    "merchant scorecards",
    "admin changelist",
    "admin change form",
    "API docs",
    "desk sign-in",
    "admin sign-in",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_each_page_carries_exactly_the_policy_and_no_inline_code(client, pages, name):
    # Given a page and a reader allowed to see it
    url, reader = pages[name]
    if reader is not None:
        client.force_login(reader)

    # When the page is served
    response = client.get(url)

    # Then it is HTML with exactly the site's policy, and nothing in it needs more
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/html")
    assert parse(response["Content-Security-Policy"]) == POLICY
    assert "Content-Security-Policy-Report-Only" not in response
    assert inline_code(response.content.decode()) == []


@pytest.mark.django_db
def test_the_too_large_page_carries_the_policy_too(client, category, settings):
    # When a complaint is sent whose declared body is above the limit (the
    # middleware answers before any view runs)
    response = client.post(
        reverse("complaints:complaint_new"),
        {"description": "太大了"},
        CONTENT_LENGTH=str(settings.EVIDENCE_MAX_REQUEST_BYTES + 1),
    )

    # Then the page that says so is under the policy and goes back without inline code
    assert response.status_code == 413
    assert parse(response["Content-Security-Policy"]) == POLICY
    html = response.content.decode()
    assert inline_code(html) == []
    assert "data-back" in html


@pytest.mark.django_db
def test_the_swagger_ui_script_is_served_from_its_own_url(client):
    page = client.get(reverse("api-docs")).content.decode()
    script = re.search(r'<script src="(/api/docs/\?[^"]*script=[^"]*)"', page)
    assert script, "the page loads its Swagger UI set-up from /api/docs/?script="
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()


@pytest.mark.django_db
def test_redoc_adds_only_its_style_nonce_and_hashes_and_its_worker(client):
    # When ReDoc's page is served
    response = client.get(reverse("api-redoc"))

    # Then its policy is the site's, with style-src widened by this response's
    # nonce (on the script that hands it to ReDoc) and two hashes, and blob: workers
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_code(html) == []
    nonce = re.search(r'<script src="[^"]*/tickets/redoc\.js" nonce="([^"]+)"', html).group(1)
    policy = parse(response["Content-Security-Policy"])
    assert policy == POLICY | {
        "style-src": ["'self'", f"'nonce-{nonce}'", *REDOC_STYLE_HASHES],
        "worker-src": ["'self'", "blob:"],
    }
    # And a fresh nonce each time.
    again = client.get(reverse("api-redoc"))
    assert f"'nonce-{nonce}'" not in again["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*PAGES, "ReDoc"])
def test_no_page_allows_inline_or_eval_script_or_inline_style(client, pages, name):
    url, reader = pages[name] if name != "ReDoc" else (reverse("api-redoc"), None)
    if reader is not None:
        client.force_login(reader)
    policy = parse(client.get(url)["Content-Security-Policy"])
    for directive in ("default-src", "script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive], directive
        assert "'unsafe-eval'" not in policy[directive], directive
        assert "'unsafe-hashes'" not in policy[directive], directive
    assert not {"script-src-attr", "script-src-elem", "style-src-attr", "style-src-elem"} & set(policy)
