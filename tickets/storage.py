"""Where evidence files live (kept apart from the models, which name it)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible
class EvidenceStorage(FileSystemStorage):
    """``settings.EVIDENCE_ROOT``, read when a file is touched (so tests may move
    it); no base URL: a stored file has no address of its own."""

    def __init__(self):
        super().__init__(base_url=None, directory_permissions_mode=0o750)

    @property
    def base_location(self):
        return settings.EVIDENCE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Evidence files have no URL; serve them through tickets.evidence.evidence_response.")


def evidence_storage() -> EvidenceStorage:
    return EvidenceStorage()
