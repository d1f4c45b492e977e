"""Sign-in, sign-out and one's own password (P7.2: each person sees what the post allows)."""

from datetime import timedelta

from flask import Blueprint, current_app, session

bp = Blueprint("auth", __name__, url_prefix="/auth")

from mktapp.auth import routes  # noqa: E402,F401
from mktapp.auth.services import SESSION_TOKEN, load_user  # noqa: E402
from mktapp.extensions import login_manager  # noqa: E402


def _load_user(user_id: str):
    """The user of this session, while its server-side row stands (auth.services)."""
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return load_user(user_id, session.get(SESSION_TOKEN), idle)


def register(app) -> None:
    """Signing in: the blueprint, and how a session's user is loaded."""
    app.register_blueprint(bp)
    login_manager.user_loader(_load_user)
