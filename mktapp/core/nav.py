"""The sidebar: entries grouped by policy chapter.

Chapters register their entries here; the layout shows an entry only when its
endpoint exists and the user holds its permission, so a chapter that is not
built yet simply has no entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from mktapp.core.permissions import permissions_of


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


def badge_response(endpoint: str, count: int, label: str):
    """The sidebar's polled count fragment for `endpoint` (the entry's badge): the number
    with a spoken label, or a hidden placeholder that keeps polling when it is zero."""
    attrs = Markup(
        ' hx-get="{}" hx-trigger="every {}s" hx-swap="outerHTML" hx-boost="false"'
    ).format(url_for(endpoint), current_app.config["NOTIFY_POLL_SECONDS"])
    if count:
        html = Markup('<span class="nav-badge"{} aria-label="{}">{}</span>').format(
            attrs, label, count
        )
    else:
        html = Markup('<span class="nav-badge"{} hidden></span>').format(attrs)
    response = current_app.response_class(str(html), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def add(section: str, entry: NavEntry) -> None:
    for s in SECTIONS:
        if s.code == section:
            if all(e.endpoint != entry.endpoint for e in s.entries):
                s.entries.append(entry)
                global _generation
                _generation += 1  # an entry added late (tests): sidebars are built anew
            return
    raise KeyError(section)


class NavItem(NamedTuple):
    """One link as drawn: its URL, label, and whether it is the page (or its area).
    (A named tuple: a sidebar makes a dozen on every page.)"""

    url: str
    label: object
    active: bool
    current: bool
    badge_url: str | None = None


# The links a permission set may see in a language, built once: (section, [(entry, url,
# label)]) for entries whose endpoint exists and whose permissions the set holds. What
# depends on the user beyond their permissions (NavEntry.when) and on the page (active,
# current) is still decided on every request.
_CACHE_LIMIT = 256
_generation = 0


def _drawn(label):
    """The label in this language, drawn as before: a lazy string by its __html__ (its
    text as it is), anything else as text."""
    return Markup(label.__html__()) if hasattr(label, "__html__") else str(label)


def _links_for(perms: frozenset, locale: str) -> list:
    app = current_app._get_current_object()
    views = app.view_functions
    cache = app.extensions.setdefault("mktapp_sidebar", {})
    key = (perms, locale, request.script_root, len(views), _generation)
    hit = cache.get(key)
    if hit is not None:
        return hit
    out = []
    for section in SECTIONS:
        items = [
            (
                e,
                url_for(e.endpoint),
                _drawn(e.label),
                url_for(e.badge) if e.badge and e.badge in views else None,
            )
            for e in section.entries
            if e.endpoint in views and all(p in perms for p in e.permissions)
        ]
        if items:
            out.append((NavSection(section.code, _drawn(section.label)), items))
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = out
    return out


def sidebar_for(user) -> list[tuple[NavSection, list[NavItem]]]:
    """The sections and links this user may see, with the active link marked.

    The active link is the one whose URL is the longest prefix of the current
    path, so /org/training/3 lights up "Training records", not "Org chart".
    """
    path = request.path
    out = []
    best: tuple[int, str] | None = None
    for section, links in _links_for(permissions_of(user), str(get_locale())):
        items = []
        for e, url, label, badge_url in links:
            if e.when is not None and not e.when(user):
                continue
            items.append((url, label, badge_url))
            matches = path == url or (url != "/" and path.startswith(url.rstrip("/") + "/"))
            if matches and (best is None or len(url) > best[0]):
                best = (len(url), url)
        if items:
            out.append((section, items))
    active_url = best[1] if best else None
    return [
        (
            section,
            [
                NavItem(url, label, url == active_url, url == path, badge_url)
                for url, label, badge_url in items
            ],
        )
        for section, items in out
    ]


# The layout's fixed links (stylesheet, scripts, the top bar's forms and menu), built once
# per application and script root instead of by a dozen url_for calls on every page.
_LAYOUT_LINKS = {
    "css": ("static", {"filename": "css/app.css"}),
    "favicon": ("static", {"filename": "favicon.svg"}),
    "htmx": ("static", {"filename": "vendor/htmx.min.js"}),
    "js": ("static", {"filename": "js/app.js"}),
    "home": ("dashboard.index", {}),
    "set_language": ("core.set_language", {}),
    "notifications": ("notifications.index", {}),
    "bell": ("notifications.bell", {}),
    "password": ("auth.password", {}),
    "logout": ("auth.logout", {}),
}


def layout_links() -> dict[str, str]:
    """URLs the layout draws on every page (those whose endpoint exists), and
    `profile_prefix`: a profile's URL without the id."""
    app = current_app._get_current_object()
    views = app.view_functions
    cache = app.extensions.setdefault("mktapp_layout_links", {})
    key = (request.script_root, len(views))
    links = cache.get(key)
    if links is None:
        links = {
            name: url_for(endpoint, **values)
            for name, (endpoint, values) in _LAYOUT_LINKS.items()
            if endpoint in views and (endpoint != "static" or not app.debug)
        }
        if "org.profile" in views:
            links["profile_prefix"] = url_for("org.profile", user_id=0)[:-1]
        cache.clear()
        cache[key] = links
    if not app.debug:
        return links  # static files change with a deploy, which restarts the app
    # While developing, a static file's address (it carries the content's version,
    # core/static_files) is made anew, so an edited stylesheet is fetched at once.
    statics = {
        name: url_for(endpoint, **values)
        for name, (endpoint, values) in _LAYOUT_LINKS.items()
        if endpoint == "static"
    }
    return links | statics
