"""tickets.phones: one way to read, store, mask and match a phone number."""

import pytest

from cs_desk.exceptions import ApplicationError
from tests.builders import ticket_filed
from tests.factories import CategoryFactory
from tickets.models import Ticket
from tickets.phones import phone_mask, phone_normalise, phone_same, phone_search, phone_search_key


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0086 138 0013 8000", "+8613800138000"),
        ("010-12345678", "+861012345678"),  # a Beijing landline
        ("+44 20 7946 0958", "+442079460958"),  # London
        ("", ""),
        ("   ", ""),
    ],
)
def test_numbers_are_stored_in_e164(typed, stored):
    assert phone_normalise(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "1380013800", "call me", "+86 138 0013 80001", "++86"])
def test_impossible_numbers_are_refused_naming_the_field(typed):
    with pytest.raises(ApplicationError) as refused:
        phone_normalise(typed)
    assert (refused.value.code, refused.value.field) == ("invalid_phone", "requester_phone")


@pytest.mark.parametrize(
    ("stored", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),  # filed before E.164 storage
        ("+442079460958", "+44 207****0958"),
        ("", ""),
    ],
)
def test_masks(stored, masked):
    assert phone_mask(stored) == masked


def test_the_same_number_however_it_was_written():
    assert phone_same("+8613812345678", "13812345678")
    assert not phone_same("+8613812345678", "+8613812345679")
    assert not phone_same("", "")


def test_a_search_for_a_whole_number_finds_its_stored_form():
    assert phone_search_key("138 1234 5678") == "+8613812345678"
    assert phone_search_key("5678") is None


@pytest.mark.django_db
def test_a_search_matches_the_number_as_lists_mask_it_whole_or_by_its_last_digits():
    category = CategoryFactory()
    e164 = ticket_filed(category, requester_phone="13812345678")
    as_typed = ticket_filed(category, requester_phone="13912345678")
    Ticket.objects.filter(pk=as_typed.pk).update(requester_phone="139 1234 5678")  # filed before E.164
    other = ticket_filed(category, requester_phone="13800000000")

    def found(query):
        return set(Ticket.objects.filter(phone_search(query)).values_list("pk", flat=True))

    assert found("138****5678") == {e164.pk}
    assert found("138 **** 5678") == {e164.pk}
    assert found("+86 138 1234 5678") == {e164.pk}
    assert found("139****5678") == {as_typed.pk}  # stored as typed: matched by its digits as typed
    assert found("5678") == {e164.pk, as_typed.pk}
    assert found("0000") == {other.pk}
    assert phone_search("abc") is None and phone_search("123") is None
