"""The qualification review (merchants.verification): the decision, its note,
who made it and when are recorded by one service, which the admin's merchant
page calls; a rejection says why."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError
from merchants.verification import merchant_verify
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)


def decision_of(merchant: Merchant) -> tuple:
    merchant.refresh_from_db()
    return merchant.verification, merchant.verification_note, merchant.verified_by, merchant.verified_at


def test_a_decision_is_recorded_with_who_and_when(admin_user):
    merchant = MerchantFactory(shop_id="SHOP00042")

    merchant_verify(merchant=merchant, decision="verified", note=" 营业执照齐全 ", by=admin_user, now=MON_10)

    assert decision_of(merchant) == ("verified", "营业执照齐全", admin_user, MON_10)


@pytest.mark.parametrize(
    ("decision", "note", "code", "field"),
    [("rejected", "", "required", "verification_note"), ("rejected", "  ", "required", "verification_note"),
     ("approved", "ok", "invalid_choice", "verification")],
)  # fmt: skip
def test_a_rejection_without_a_reason_or_an_unknown_decision_is_refused(admin_user, decision, note, code, field):
    merchant = MerchantFactory(shop_id="SHOP00042")

    with pytest.raises(ApplicationError) as refused:
        merchant_verify(merchant=merchant, decision=decision, note=note, by=admin_user, now=MON_10)

    assert (refused.value.code, refused.value.field) == (code, field)
    assert decision_of(merchant) == ("pending", "", None, None)


# --- The admin's merchant page ------------------------------------------------------


def change_url(merchant: Merchant) -> str:
    with translation.override("en"):
        return reverse("admin:accounts_merchant_change", args=[merchant.pk])


def posted(admin_client, merchant: Merchant, **changes) -> dict:
    """What the browser posts back for the merchant's change page, with ``changes``."""
    page = admin_client.get(change_url(merchant))
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    data["created_at_0"], data["created_at_1"] = str(merchant.created_at.date()), "10:00:00"
    data.pop("created_at", None)
    return data | changes


def test_the_admin_records_the_decision_through_the_service(admin_client, admin_user):
    merchant = MerchantFactory(shop_id="SHOP00042", name="开心小店")
    data = posted(admin_client, merchant, verification="rejected", verification_note="营业执照已过期")

    with time_machine.travel(MON_10, tick=False):
        response = admin_client.post(change_url(merchant), data)

    assert response.status_code == 302
    assert decision_of(merchant) == ("rejected", "营业执照已过期", admin_user, MON_10)


def test_the_admin_refuses_a_rejection_without_a_reason(admin_client):
    merchant = MerchantFactory(shop_id="SHOP00042")

    response = admin_client.post(change_url(merchant), posted(admin_client, merchant, verification="rejected"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "verification_note": ["Say why the documents were rejected; the merchant reads it."]
    }
    assert decision_of(merchant) == ("pending", "", None, None)


def test_an_edit_of_the_contact_leaves_the_decision_as_it_was(admin_client, admin_user):
    merchant = MerchantFactory(shop_id="SHOP00042")
    merchant_verify(merchant=merchant, decision="verified", note="", by=admin_user, now=MON_10)

    response = admin_client.post(change_url(merchant), posted(admin_client, merchant, contact_name="李店长"))

    assert response.status_code == 302
    merchant.refresh_from_db()
    assert merchant.contact_name == "李店长"
    assert decision_of(merchant) == ("verified", "", admin_user, MON_10)
