"""Money as the app keeps it: Decimal yuan with two decimals (fen), below ¥10¹².

The constants every chapter shares, and parse_money(): an amount typed by a person
("1,234.50", "¥88", full-width digits) as Decimal, or MoneyError with a message for them.
How an amount is shown is core.i18n.money().
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from mktapp.core.errors import DomainError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal(10) ** 12  # amounts are numeric(14, 2): below a trillion yuan


class MoneyError(DomainError, ValueError):
    """An amount that cannot be accepted; str() is the message for the user."""


def parse_money(raw: object, allow_zero: bool = True, blank_is_zero: bool = True) -> Decimal:
    """A user's amount as Decimal cents, or MoneyError with a message.

    Accepts "1234.5", "1,234.50", "¥1,234.50", full-width digits; rejects
    negatives, NaN/Infinity, more than two decimals and anything from ¥10¹².
    """
    text = str(raw if raw is not None else "").strip()
    for junk in ("¥", "￥", ",", "，", " ", "\u00a0"):
        text = text.replace(junk, "")
    text = text.translate({0xFF10 + i: 0x30 + i for i in range(10)} | {0xFF0E: 0x2E})
    if not text:
        if blank_is_zero:
            return ZERO
        raise MoneyError(_l("Enter an amount."))
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError) as error:
        raise MoneyError(_l("Enter an amount as a number, like 12000 or 12000.50.")) from error
    if not value.is_finite():
        raise MoneyError(_l("Enter an amount as a number, like 12000 or 12000.50."))
    if value < 0:
        raise MoneyError(_l("The amount cannot be negative."))
    # (the size first: quantize() cannot hold a number of 10³⁰⁹)
    if value == 0 and not allow_zero:
        raise MoneyError(_l("The amount must be more than zero."))
    if value >= MAX_AMOUNT:
        raise MoneyError(_l("The amount must be below ¥1,000,000,000,000."))
    if value != value.quantize(CENT, rounding=ROUND_DOWN):
        raise MoneyError(_l("Use at most two decimals (fen)."))
    return value.quantize(CENT)
