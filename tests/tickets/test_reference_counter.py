"""The day's reference counter is not held for the whole filing (issue 21): a
complaint filed while another filing's transaction is still open gets its number
at once, on a connection of its own, instead of queueing behind it."""

import threading
import time

import pytest
from django.db import connection

from tests.builders import ticket_filed
from tickets import events


@pytest.mark.django_db(transaction=True)
def test_a_filing_in_progress_does_not_hold_up_the_next_ones_number(category, monkeypatch):
    inside, release = threading.Event(), threading.Event()

    def slow_consumer(rows):  # runs inside the filing's transaction, after its inserts
        if threading.current_thread().name == "slow-filing":
            inside.set()
            assert release.wait(timeout=30)

    monkeypatch.setitem(events._written, "test-slow", slow_consumer)
    filed = {}

    def file(name: str) -> None:
        try:
            filed[name] = ticket_filed(category, subject=name)
        finally:
            connection.close()

    slow = threading.Thread(target=file, args=("slow",), name="slow-filing")
    slow.start()
    assert inside.wait(timeout=30)  # the slow filing holds its transaction open
    started = time.monotonic()
    quick = threading.Thread(target=file, args=("quick",), name="quick-filing")
    quick.start()
    quick.join(timeout=20)
    waited = time.monotonic() - started
    release.set()
    slow.join(timeout=30)

    assert not quick.is_alive() and waited < 10, "the second filing waited for the first one's transaction"
    number = {name: int(ticket.reference.rsplit("-", 1)[1]) for name, ticket in filed.items()}
    assert number["quick"] == number["slow"] + 1  # taken in order, each once
