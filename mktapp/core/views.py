"""Core pages that belong to no chapter: health check and language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from mktapp.core.i18n import SUPPORTED
from mktapp.core.permissions import public
from mktapp.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/healthz")
@public
def healthz():
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001  (any database failure means unhealthy)
        db.session.rollback()
        return {"status": "db unavailable"}, 503
    return {"status": "ok"}, 200


@bp.post("/language")
@public
def set_language():
    """Switch the interface language (kept on the user, or in the session when signed out)."""
    locale = request.form.get("locale", "")
    if locale in SUPPORTED:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    return redirect(safe_next(request.form.get("next") or request.referrer), code=303)


def safe_next(target: str | None) -> str:
    """A same-site path to go back to; anything else becomes the dashboard."""
    if target:
        parts = urlsplit(target)
        if (not parts.netloc or parts.netloc == request.host) and parts.path.startswith("/"):
            path = parts.path if not parts.path.startswith("//") else "/"
            return path + (f"?{parts.query}" if parts.query else "")
    return url_for("dashboard.index")


def register(app) -> None:
    """Its blueprint."""
    app.register_blueprint(bp)
