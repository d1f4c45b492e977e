"""The sidebar: entries grouped by policy chapter.

Chapters register their entries here; the layout shows an entry only when its
endpoint exists and the user holds its permission, so a chapter that is not
built yet simply has no entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l

from mktapp.core.permissions import can


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object
    permissions: tuple[str, ...] = ()
    icon: str = "dot"
    # A callable(user) -> bool for rules a permission cannot express.
    when: object = None


@dataclass
class NavSection:
    code: str
    label: object
    entries: list[NavEntry] = field(default_factory=list)


SECTIONS: list[NavSection] = [
    NavSection("home", _l("Workbench")),
    NavSection("P1", _l("Organisation")),
    NavSection("P2", _l("Market research")),
    NavSection("P3", _l("Brand & activities")),
    NavSection("P4", _l("Customers & sales")),
    NavSection("P5", _l("Relationships & service")),
    NavSection("P6", _l("Marketing expenses")),
    NavSection("admin", _l("Administration")),
]


def add(section: str, entry: NavEntry) -> None:
    for s in SECTIONS:
        if s.code == section:
            if all(e.endpoint != entry.endpoint for e in s.entries):
                s.entries.append(entry)
            return
    raise KeyError(section)


def sidebar_for(user) -> list[tuple[NavSection, list[NavEntry]]]:
    views = current_app.view_functions
    out = []
    for section in SECTIONS:
        entries = [
            e
            for e in section.entries
            if e.endpoint in views
            and can(user, *e.permissions)
            and (e.when is None or e.when(user))
        ]
        if entries:
            out.append((section, entries))
    return out
