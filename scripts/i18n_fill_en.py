"""Fill the English catalogue: msgids are English, so each translation is its msgid.

Run by `make update-translations` after `pybabel update`; entries that already
have an English text (a deliberate rewording) are kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "mktapp/translations/en/LC_MESSAGES/messages.po"


def main() -> int:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        message.flags.discard("fuzzy")
        if isinstance(message.id, tuple):
            if not all(message.string):
                message.string = (message.id[0], message.id[1])
                filled += 1
        elif not message.string:
            message.string = message.id
            filled += 1
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100)
    print(f"en: filled {filled} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
