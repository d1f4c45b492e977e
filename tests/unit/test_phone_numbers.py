"""Phone numbers (core/phones): what passes, how it is written, what is refused and why."""

from __future__ import annotations

import random

import pytest

from mktapp.core.phones import AREA_CODE, FORMAT, InvalidPhone, normalize_phone, phone_problem


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits
        ("19912345678", "19912345678"),
        ("010 1234 5678", "010-12345678"),
        ("010-12345678", "010-12345678"),
        ("(021) 6888-1234", "021-68881234"),
        ("0571-8888888", "0571-8888888"),
        ("0595 1234567", "0595-1234567"),
        ("+86 10 1234 5678", "010-12345678"),
        ("+86 (0)21 5555 0100", "021-55550100"),
        ("010-12345678转8001", "010-12345678转8001"),
        ("010-12345678 ext. 12", "010-12345678转12"),
        ("0755-2345678 x 5", "0755-2345678转5"),
        ("010-12345678-123", "010-12345678转123"),
        ("400-123-4567", "400-123-4567"),
        ("8001234567", "800-123-4567"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_a_valid_number_is_saved_in_one_written_form(typed, saved):
    assert normalize_phone(typed) == saved
    assert phone_problem(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        "1380013800a",  # a letter
        "abc",
        "phone: 13800138000",
        "138001380001",  # twelve digits
        "1380013800",  # ten digits
        "12800138000",  # no mobile network starts 12
        "0110-1234567",  # no area code 011
        "010-123456",  # a local number too short
        "010-123456789",  # too long
        "13800138000转12",  # a mobile has no extension
        "110",
        "+1 415 555 0100",  # not a Chinese number
        "13800138000; DROP TABLE contacts",
    ],
)
def test_a_number_with_letters_or_the_wrong_length_is_refused(typed):
    with pytest.raises(InvalidPhone) as refused:
        normalize_phone(typed)
    assert refused.value.message == FORMAT
    assert phone_problem(typed) == str(FORMAT)


@pytest.mark.parametrize("typed", ["12345678", "6888 1234", "2345678"])
def test_a_landline_without_its_area_code_asks_for_it(typed):
    with pytest.raises(InvalidPhone) as refused:
        normalize_phone(typed)
    assert refused.value.message == AREA_CODE


def test_the_written_form_is_stable():
    for typed in ("138 0013 8000", "010 1234 5678", "0571 88888888 转 8001", "400 123 4567"):
        once = normalize_phone(typed)
        assert normalize_phone(once) == once


def test_every_phone_number_of_the_demo_passes():
    from mktapp.demo.customers import _phone
    from mktapp.demo.org import USERS

    for *_rest, phone in USERS:
        assert phone_problem(phone) is None, phone
    rng = random.Random(4242)
    for _ in range(2000):
        number = _phone(rng)
        assert phone_problem(number) is None, number
