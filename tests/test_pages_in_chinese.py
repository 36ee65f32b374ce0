"""Every page a person reads, in Chinese: the consumer's pages, the agent desk, the
managers' reports, the merchant portal and the error pages they can meet, each
rendered in the site's default language (no /en/ prefix, no language cookie) with
rows, badges, histories and empty states in it, show no English word outside the
short allow-list of tests/i18n_words.py. The same pages at /en/ render too.

The world is built once for the module through the real services, with Chinese
or digit-only values (names, subjects, usernames, shop ids), so that what the
check finds is the interface's English, not the data's (tests/pages_world.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import translation

from cs_desk.urls import handler500
from tests.i18n_words import english_words
from tests.pages_world import PAGES, World, page_request, page_text, world_built

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with world_built(django_db_blocker) as built:
        yield built


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_is_in_chinese(world: World, name: str):
    response = page_request(world, PAGES[name])

    page = page_text(response)
    assert response.status_code == PAGES[name].status, page[:2000]
    assert response["Content-Language"] == "zh-hans"
    assert [shown for shown in PAGES[name].shows if shown not in page] == []
    words = english_words(page)
    assert not words, sorted(words)


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_renders_in_english(world: World, name: str):
    response = page_request(world, PAGES[name], prefix="/en")

    assert response.status_code == PAGES[name].status
    assert response["Content-Language"] == "en"


def test_the_server_error_page_is_in_chinese(rf: RequestFactory):
    """Rendered by the handler the URLconf names, as Django calls it after an
    unhandled error (no context, the visitor's language active)."""
    request = rf.get("/desk/")
    with translation.override(settings.LANGUAGE_CODE):
        response = handler500(request)
    assert response.status_code == 500
    words = english_words(response.content.decode())
    assert not words, sorted(words)


def test_the_csrf_failure_page_is_in_chinese(world: World):
    """A form sent without its CSRF token (an expired page, a blocked cookie)."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/feedback/", {"topic": "site", "body": "很好"})
    assert response.status_code == 403
    words = english_words(response.content.decode())
    assert not words, sorted(words)


def test_the_checker_is_not_vacuous(world: World):
    """The same page in English is full of English words."""
    response = page_request(world, PAGES["desk:ticket"], prefix="/en")
    assert {"Assign", "Reply"} <= english_words(response.content.decode())
