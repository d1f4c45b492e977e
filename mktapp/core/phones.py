"""Phone numbers (China): one check and one written form for every phone field.

Accepted: a mobile number (1[3-9] and nine more digits), a landline with its area code
(0xx or 0xxx, then 7 or 8 digits), a 400/800 service number, each with an optional
+86 / 0086 in front; a landline may carry an extension after 转, ext, x, # or a
third dash group. Spaces, dashes, dots, brackets and full-width digits are fine.

Written as: 13800138000, 010-12345678, 0571-8888888, 400-123-4567, 010-12345678转123.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError

FORMAT = _l(
    "Enter a mobile number like 138 0013 8000, or a landline with its area code like "
    "010-1234 5678 (an extension after 转)."
)
AREA_CODE = _l("Add the area code to the landline number, like 010-12345678.")

_SEPARATORS = re.compile(r"[\s\-.()（）/]+")
# An extension: 转 / 分机 / ext / x / # and its digits, at the end.
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
# A landline written with dashes and a third group: 010-12345678-123.
_DASHED_EXTENSION = re.compile(r"^(.*\d)\s*-\s*(\d{1,6})$")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")


class InvalidPhone(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalize_phone(text: str | None) -> str:
    """The number in its written form; "" for an empty one; InvalidPhone if it is not a
    mobile, a landline with its area code or a 400/800 number."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return ""
    extension = ""
    found = _EXTENSION.search(raw)
    if found:
        extension, raw = found.group(1), raw[: found.start()].strip()
    digits = _digits(raw)
    if digits is None:
        raise InvalidPhone(FORMAT)
    if not extension and not _is_number(digits):
        dashed = _DASHED_EXTENSION.match(raw)
        if dashed and (whole := _digits(dashed.group(1))) and _is_landline(whole):
            digits, extension = whole, dashed.group(2)
    if _MOBILE.fullmatch(digits):
        if extension:
            raise InvalidPhone(FORMAT)
        return digits
    if _SERVICE.fullmatch(digits):
        if extension:
            raise InvalidPhone(FORMAT)
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if _is_landline(digits):
        area = _area(digits)
        number = f"{digits[:area]}-{digits[area:]}"
        return f"{number}转{extension}" if extension else number
    if re.fullmatch(r"[1-9]\d{6,7}", digits):  # a local number without its area code
        raise InvalidPhone(AREA_CODE)
    raise InvalidPhone(FORMAT)


def _digits(text: str) -> str | None:
    """The digits of a number, a +86 / 0086 in front dropped (a landline written after it
    without its leading 0 gets the 0 back); None when anything but digits and separators
    is in it."""
    text = _SEPARATORS.sub("", text)
    plus = text.startswith("+")
    text = text.removeprefix("+")
    if not (text.isascii() and text.isdigit()):
        return None
    if text.startswith("0086"):
        rest = text[4:]
    elif text.startswith("86") and (plus or len(text) == 13):
        rest = text[2:]
    elif plus:  # another country's number
        return None
    else:
        return text
    if rest.startswith("0") or _MOBILE.fullmatch(rest) or _SERVICE.fullmatch(rest):
        return rest
    return "0" + rest


def _area(digits: str) -> int:
    """How long the area code is, its 0 included: 010 and 02x are three digits long."""
    return 3 if digits[1:3] == "10" or digits[1] == "2" else 4


def _is_landline(digits: str) -> bool:
    """An area code (010, 02x, or 0 and three digits from 3 up) and a local number of 7 or
    8 digits."""
    if len(digits) < 10 or not digits.startswith("0") or digits[1] == "0":
        return False
    if digits[1] == "1" and digits[2] != "0":  # 010 is the only area code starting 01
        return False
    return bool(re.fullmatch(r"[1-9]\d{6,7}", digits[_area(digits) :]))


def _is_number(digits: str) -> bool:
    return bool(_MOBILE.fullmatch(digits) or _SERVICE.fullmatch(digits) or _is_landline(digits))


def phone_problem(text: str | None) -> str | None:
    """The message for a number that is not valid, or None."""
    try:
        normalize_phone(text)
    except InvalidPhone as error:
        return str(error.message)
    return None


class PhoneField(StringField):
    """A phone number: checked on validation, and .data is its written form then."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "tel", "autocomplete": "tel", "maxlength": 40})
        super().__init__(label, validators, **kwargs)

    def pre_validate(self, form):
        try:
            self.data = normalize_phone(self.data)
        except InvalidPhone as error:
            raise ValidationError(str(error.message)) from None
