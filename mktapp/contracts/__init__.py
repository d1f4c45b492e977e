"""Sales contracts (P4.3): drafting, review, signing, execution, amendments, archive."""

from flask import Blueprint

from mktapp.core.chapter import chapter

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

from mktapp.contracts import routes, services  # noqa: E402

register = chapter(bp, services, routes)
