"""How a chapter joins the app: its package's __init__ makes the blueprint, imports its
parts and declares

    register = chapter(bp, budget, claims, routes_budget, routes_claims)

create_app calls each chapter's register(app): the blueprint is registered, then each
part's setup(app) adds what it declares to the registries (nav, flows, settings,
attachables, page parts, CLI), in the order given. Importing a module registers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from flask import Blueprint, Flask


def chapter(bp: Blueprint, *parts: ModuleType) -> Callable[[Flask], None]:
    """The chapter's register(app): `bp`, then the setup(app) of each part that has one."""

    def register(app: Flask) -> None:
        app.register_blueprint(bp)
        for part in parts:
            setup = getattr(part, "setup", None)
            if setup is not None:
                setup(app)

    return register
