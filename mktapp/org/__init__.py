"""Organisation chapter (P0 general provisions, P1 organisation and duties, P7 staff and policy)."""

from flask import Blueprint

from mktapp.core.chapter import chapter

bp = Blueprint("org", __name__, url_prefix="/org")

from mktapp.org import routes, routes_policy, routes_training  # noqa: E402,F401

register = chapter(bp, routes, routes_policy, routes_training)
