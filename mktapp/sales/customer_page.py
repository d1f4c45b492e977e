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

from flask import g

from mktapp.core.page_parts import Action, PageParts, Panel

__all__ = ["Action", "Panel", "TimelineItem", "register_action", "register_panel"]


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

_parts = PageParts("customer_id", "customer")
_sources: dict[str, TimelineSource] = {}

register_action = _parts.register_action
register_panel = _parts.register_panel
actions_for = _parts.actions_for
panels_for = _parts.panels_for
rendered_panels = _parts.rendered_panels


def once_per_request(name: str, customer, user, load: Callable[[], list]) -> list:
    """What `load()` reads for this customer and reader, read once per request: a part's
    panel and its timeline entries share one query."""
    memo = g.setdefault(f"customer_page_{name}", {})
    key = (customer.id, user.id)
    if key not in memo:
        memo[key] = load()
    return memo[key]


def register_timeline_source(kind: str, source: TimelineSource) -> TimelineSource:
    _sources[kind] = source
    return source


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
