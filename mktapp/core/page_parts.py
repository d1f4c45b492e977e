"""What other chapters add to a record's page: actions (buttons) and panels (sections).

A page (the customer page, the activity page ...) owns a PageParts registry; chapters
register their actions and panels on it when imported, and the page's view asks
`actions_for(record, user)` and `panels_for(record, user)`. Like the sidebar, an action
whose endpoint does not exist is not shown, and a panel needs its permissions.

Query budget: a panel's loader runs one query (or a few), so a page stays within a
handful of queries however many parts plug into it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, url_for
from markupsafe import Markup

from mktapp.core.permissions import can


@dataclass(frozen=True)
class Action:
    """A button on a record's page, e.g. "New opportunity" -> sales.opportunity_new."""

    endpoint: str
    label: object
    permissions: tuple[str, ...] = ()
    # record -> the URL's arguments (default: {<page's id argument>: record.id})
    args: Callable[[Any], dict] | None = None
    # (user, record) -> bool, for rules a permission cannot express
    when: Callable[[Any, Any], bool] | None = None
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A section of a record's page: template rendered with what load() returns."""

    key: str
    title: object
    template: str
    # (record, user) -> dict merged into the template's context
    load: Callable[[Any, Any], dict]
    permissions: tuple[str, ...] = ()
    order: int = 100


class PageParts:
    """The actions and panels registered for one kind of page."""

    def __init__(self, id_argument: str, record_name: str):
        self.id_argument = id_argument
        self.record_name = record_name  # how panel templates call the record
        self._actions: list[Action] = []
        self._panels: list[Panel] = []

    def register_action(self, action: Action) -> Action:
        if all(a.endpoint != action.endpoint for a in self._actions):
            self._actions.append(action)
            self._actions.sort(key=lambda a: a.order)
        return action

    def register_panel(self, panel: Panel) -> Panel:
        if all(p.key != panel.key for p in self._panels):
            self._panels.append(panel)
            self._panels.sort(key=lambda p: p.order)
        return panel

    def actions_for(self, record, user) -> list[tuple[str, object]]:
        """(url, label) of the actions this user may take on this record."""
        views = current_app.view_functions
        out = []
        for a in self._actions:
            if a.endpoint not in views or not can(user, *a.permissions):
                continue
            if a.when is not None and not a.when(user, record):
                continue
            args = a.args(record) if a.args else {self.id_argument: record.id}
            out.append((url_for(a.endpoint, **args), a.label))
        return out

    def panels_for(self, record, user) -> list[tuple[Panel, dict]]:
        """The panels this user may see, each with its loaded context."""
        return [(p, p.load(record, user)) for p in self._panels if can(user, *p.permissions)]

    def rendered_panels(self, record, user) -> list[tuple[Panel, Markup]]:
        """The panels this user may see, each rendered (autoescaped) with its context."""
        context = {self.record_name: record}
        return [
            (panel, Markup(render_template(panel.template, **context, **loaded)))
            for panel, loaded in self.panels_for(record, user)
        ]
