"""The sidebar: entries grouped by policy chapter.

Chapters register their entries here; the layout shows an entry only when its
endpoint exists and the user holds its permission, so a chapter that is not
built yet simply has no entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, request, url_for
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
    # An endpoint answering a small count fragment, polled by the sidebar (e.g. approvals waiting).
    badge: str | None = None


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


@dataclass(frozen=True)
class NavItem:
    """One link as drawn: its URL, label, and whether it is the page (or its area)."""

    url: str
    label: object
    active: bool
    current: bool
    badge_url: str | None = None


def sidebar_for(user) -> list[tuple[NavSection, list[NavItem]]]:
    """The sections and links this user may see, with the active link marked.

    The active link is the one whose URL is the longest prefix of the current
    path, so /org/training/3 lights up "Training records", not "Org chart".
    """
    views = current_app.view_functions
    path = request.path
    out = []
    best: tuple[int, str] | None = None
    for section in SECTIONS:
        items = []
        for e in section.entries:
            if e.endpoint not in views or not can(user, *e.permissions):
                continue
            if e.when is not None and not e.when(user):
                continue
            url = url_for(e.endpoint)
            items.append((e, url))
            matches = path == url or (url != "/" and path.startswith(url.rstrip("/") + "/"))
            if matches and (best is None or len(url) > best[0]):
                best = (len(url), url)
        if items:
            out.append((section, items))
    active_url = best[1] if best else None
    return [
        (
            section,
            [NavItem(url, e.label, url == active_url, url == path) for e, url in items],
        )
        for section, items in out
    ]
