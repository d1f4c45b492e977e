"""What a password must be: long enough, not the username, not a common one.

The common passwords are zxcvbn's list (the 30,000 most frequent in leaked password
sets, lower case), read once when a password is first checked. A password is compared
in lower case; one built of fewer than four different characters ("aaaaaaaaaa",
"1212121212") counts as common too.
"""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_DISTINCT = 4

# What the password fields say under them (the rules below, in one sentence).
HINT = _l(
    "At least 10 characters, not containing the username, and not a common password "
    "such as “password123”."
)


def length_checks() -> list:
    """The form's own check of a new password's length (the message the service gives)."""
    from wtforms.validators import Length  # noqa: PLC0415

    return [
        Length(min=MIN_LENGTH, message=_l("Use at least %(count)s characters.", count=MIN_LENGTH)),
        Length(max=MAX_LENGTH, message=_l("Use at most %(count)s characters.", count=MAX_LENGTH)),
    ]


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of common passwords (imported on first use: it is a large module)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # noqa: PLC0415

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, username: str = "") -> str | None:
    """Why this password may not be used (for the message next to the field), or None."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return str(_l("Use at least %(count)s characters.", count=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("Use at most %(count)s characters.", count=MAX_LENGTH))
    lowered = password.lower()
    name = (username or "").strip().lower()
    if name and name in lowered:
        return str(_l("The password must not contain the username."))
    if lowered in common_passwords() or len(set(lowered)) < MIN_DISTINCT:
        return str(_l("This password is too common and easy to guess; choose one of your own."))
    return None
