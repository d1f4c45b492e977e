"""What other parts add to a customer's page: actions, panels and timeline entries.

The customer page (routes_customers) knows only this registry. The pipeline registers
its "new opportunity" action, its panel and its timeline source; the contracts chapter
does the same for contracts; a later chapter (service tickets, activities) plugs in the
same way. Like the sidebar, an action whose endpoint does not exist is not shown.

Query budget: a source runs one query (newest first, `limit` rows); a panel's loader one
query. The page stays within a handful of queries however long the history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, url_for

from mktapp.core.permissions import can


@dataclass(frozen=True)
class Action:
    """A button on the customer page, e.g. "New opportunity" -> sales.opportunity_new."""

    endpoint: str
    label: object
    permissions: tuple[str, ...] = ()
    # customer -> the URL's arguments (default: customer_id=customer.id)
    args: Callable[[Any], dict] | None = None
    # (user, customer) -> bool, for rules a permission cannot express
    when: Callable[[Any, Any], bool] | None = None
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A section of the customer page: template rendered with what load() returns."""

    key: str
    title: object
    template: str
    # (customer, user) -> dict merged into the template's context (one query)
    load: Callable[[Any, Any], dict]
    permissions: tuple[str, ...] = ()
    order: int = 100


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # "followup", "opportunity", "contract", "change" ... (a CSS class, an icon)
    title: str
    body: str = ""
    url: str | None = None
    who: str = ""
    # e.g. {"date_only": True}: the entry has a date, not a time (a contract signed on a day)
    extra: dict = field(default_factory=dict)


# (customer, user, limit) -> list[TimelineItem], newest first, at most limit
TimelineSource = Callable[[Any, Any, int], list[TimelineItem]]

_actions: list[Action] = []
_panels: list[Panel] = []
_sources: dict[str, TimelineSource] = {}


def register_action(action: Action) -> Action:
    if all(a.endpoint != action.endpoint for a in _actions):
        _actions.append(action)
        _actions.sort(key=lambda a: a.order)
    return action


def register_panel(panel: Panel) -> Panel:
    if all(p.key != panel.key for p in _panels):
        _panels.append(panel)
        _panels.sort(key=lambda p: p.order)
    return panel


def register_timeline_source(kind: str, source: TimelineSource) -> TimelineSource:
    _sources[kind] = source
    return source


def actions_for(customer, user) -> list[tuple[str, object]]:
    """(url, label) of the actions this user may take on this customer."""
    views = current_app.view_functions
    out = []
    for a in _actions:
        if a.endpoint not in views or not can(user, *a.permissions):
            continue
        if a.when is not None and not a.when(user, customer):
            continue
        args = a.args(customer) if a.args else {"customer_id": customer.id}
        out.append((url_for(a.endpoint, **args), a.label))
    return out


def panels_for(customer, user) -> list[tuple[Panel, dict]]:
    """The panels this user may see, each with its loaded context."""
    return [(p, p.load(customer, user)) for p in _panels if can(user, *p.permissions)]


def timeline_for(customer, user, limit: int = 50) -> list[TimelineItem]:
    """The newest `limit` entries of every source, merged newest first."""
    items: list[TimelineItem] = []
    for source in _sources.values():
        items.extend(source(customer, user, limit))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def timeline_page(customer, user, limit: int = 50, offset: int = 0):
    """(entries offset .. offset+limit, whether more follow): the "show more" pages.

    Each source is asked for its newest offset+limit+1 entries, so a later page is still
    one query per source.
    """
    items: list[TimelineItem] = []
    for source in _sources.values():
        items.extend(source(customer, user, offset + limit + 1))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[offset : offset + limit], len(items) > offset + limit
