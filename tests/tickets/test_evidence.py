"""tickets.evidence: files staged for a transaction that later rolls back do not
stay on disk holding a consumer's screenshot."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tests.builders import WANG, picture, ticket_filed
from tests.tickets.test_admin import MON_10
from tickets.evidence import evidence_orphans_remove
from tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


@pytest.fixture(autouse=True)
def own_evidence_root(settings, tmp_path):
    """Files of this test only (other tests' rolled-back files are orphans too)."""
    settings.EVIDENCE_ROOT = str(tmp_path / "evidence")


def files_on_disk() -> set[str]:
    root = Path(settings.EVIDENCE_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_file_staged_for_a_rolled_back_transaction_is_removed_after_the_grace(category):
    before = files_on_disk()
    kept = ticket_filed(category, at=MON_10, **WANG, evidence=[picture()])
    kept_name = Attachment.objects.get(ticket=kept).file.name

    # given a complaint with a screenshot filed inside an outer transaction that then rolls back
    with pytest.raises(Rollback), transaction.atomic():
        ticket_filed(category, at=MON_10, **(WANG | {"subject": "回滚的投诉"}), evidence=[picture()])
        raise Rollback
    assert not Ticket.objects.filter(subject="回滚的投诉").exists()
    orphans = files_on_disk() - before - {kept_name}
    assert len(orphans) == 1  # the file stayed behind, referenced by nothing

    # when the janitor runs within the grace, nothing goes (a transaction may still be open)
    assert evidence_orphans_remove(now=timezone.now()) == 0
    assert orphans <= files_on_disk()

    # and when it runs after the grace, only the orphan goes
    assert evidence_orphans_remove(now=timezone.now() + timedelta(hours=2)) == 1
    assert not orphans & files_on_disk()
    assert kept_name in files_on_disk()


def test_files_the_janitor_does_not_own_are_left_alone(category):
    root = Path(settings.EVIDENCE_ROOT)
    month = f"{timezone.now():%Y/%m}"
    foreign = root / "merchant-documents" / month / "license.pdf"
    odd = root / month / "notes.txt"
    for path in (foreign, odd):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        os.utime(path, (0, 0))  # very old

    evidence_orphans_remove(now=timezone.now() + timedelta(hours=2))

    assert foreign.exists() and odd.exists()
    foreign.unlink()
    odd.unlink()
