"""The workbench: what needs the signed-in user's attention today."""

from flask import Blueprint

from mktapp.core.chapter import chapter

bp = Blueprint("dashboard", __name__)

from mktapp.dashboard import routes  # noqa: E402,F401

register = chapter(bp, routes)
