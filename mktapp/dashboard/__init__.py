"""The workbench: what needs the signed-in user's attention today."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from mktapp.dashboard import routes  # noqa: E402,F401


def register(app) -> None:
    """The chapter in the app: its blueprint, then what its parts add to the registries
    (importing a module registers nothing)."""
    app.register_blueprint(bp)
    for part in (routes,):
        part.setup(app)
