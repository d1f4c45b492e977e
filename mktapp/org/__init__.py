"""Organisation chapter (P0 general provisions, P1 organisation and duties, P7 staff and policy)."""

from flask import Blueprint

bp = Blueprint("org", __name__, url_prefix="/org")

from mktapp.org import routes, routes_policy, routes_training  # noqa: E402,F401


def register(app) -> None:
    """The chapter in the app: its blueprint, then what its parts add to the registries
    (importing a module registers nothing)."""
    app.register_blueprint(bp)
    for part in (
        routes,
        routes_policy,
        routes_training,
    ):
        part.setup(app)
