"""Sales contracts (P4.3): drafting, review, signing, execution, amendments, archive."""

from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

from mktapp.contracts import routes  # noqa: E402,F401
