"""Issue 11: no page is wider than a phone. One mechanism serves every table: the CSS keys
on `table.data` (it scrolls inside its own box; a list becomes stacked cards on a phone)
and static/js/app.js names each card's values from the table's <thead>. A template whose
table lacks either would escape it; these tests name that template. (The browser test
tests/e2e/test_pages.py measures every sidebar page at 390 px.)"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TABLE = re.compile(r"<table\b[^>]*>", re.IGNORECASE)


def _screen_tables():
    """(template, line, tag, inside) for every table drawn on screen (reports/ are PDFs)."""
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.relative_to(TEMPLATES).parts[0] == "reports":
            continue
        text = path.read_text(encoding="utf-8")
        for match in TABLE.finditer(text):
            end = text.find("</table>", match.end())
            line = text.count("\n", 0, match.start()) + 1
            yield path.relative_to(TEMPLATES), line, match.group(0), text[match.end() : end]


def test_every_table_on_screen_is_a_data_table_with_a_header_row():
    tables = list(_screen_tables())
    assert len(tables) > 50  # the walk found the app's tables
    escaped = []
    for name, line, tag, inside in tables:
        classes = re.search(r'class="([^"]*)"', tag)
        if not classes or "data" not in classes.group(1).split():
            escaped.append(f'{name}:{line}: {tag} has no class "data" (it would widen a phone)')
        if "<thead" not in inside and "table_head(" not in inside:  # the list kit's head
            escaped.append(f"{name}:{line}: {tag} has no <thead> (its cards would be unlabelled)")
    assert not escaped, "\n".join(escaped)
