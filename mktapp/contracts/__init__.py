"""Sales contracts (P4.3): drafting, review, signing, execution, amendments, archive."""

from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

from mktapp.contracts import routes, services  # noqa: E402


def register(app) -> None:
    """The chapter in the app: its blueprint, then what its parts add to the registries
    (importing a module registers nothing)."""
    app.register_blueprint(bp)
    for part in (
        services,
        routes,
    ):
        part.setup(app)
