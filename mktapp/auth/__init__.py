"""Sign-in, sign-out and one's own password (P7.2: each person sees what the post allows)."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from mktapp.auth import routes  # noqa: E402,F401
from mktapp.auth.services import load_user  # noqa: E402
from mktapp.extensions import login_manager  # noqa: E402


def register(app) -> None:
    """Signing in: the blueprint, and how a session's user is loaded."""
    app.register_blueprint(bp)
    login_manager.user_loader(load_user)
