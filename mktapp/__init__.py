"""mktapp (营销管理系统): the application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask, g, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from mktapp import models  # noqa: F401  (every table, for create_all and migrations)
from mktapp.config import Config
from mktapp.core import audit, audit_display, fragments, htmx, i18n, requests, static_files
from mktapp.core.errors import register_error_handlers
from mktapp.core.nav import layout_links, sidebar_for
from mktapp.core.permissions import can, role_label, role_labels
from mktapp.extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: object | None = None) -> Flask:
    """Build the app. `config` is a Config instance, a mapping of overrides, or None."""
    load_dotenv(ROOT / ".env", override=False)
    instance_path = os.environ.get("MKTAPP_INSTANCE_PATH", str(ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    requests.init_app(app)  # before any route: what a request may carry (core/requests.py)

    if config is None:
        config = Config(app.instance_path)
    elif isinstance(config, dict):
        overrides, config = config, Config(app.instance_path)
        for key, value in overrides.items():
            setattr(config, key, value)
    app.config.from_object(config)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind a reverse proxy: the client's address and scheme as the proxy forwards them
        # (X-Forwarded-For, X-Forwarded-Proto; the proxy passes the Host header on).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    logging.basicConfig(level=logging.INFO)
    # Chatty libraries: their progress lines would drown the app's own log.
    for noisy in ("weasyprint", "fontTools", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)

    register_error_handlers(app)

    from mktapp.cli import register_cli  # noqa: PLC0415  (the CLI imports chapters: see _register_blueprints)

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
        default_translation_directories=str(ROOT / "mktapp" / "translations"),
    )
    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "basic"
    audit.init_app(app)
    audit_display.init_app(app)

    fragments.init_app(app)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.close()


def _register_blueprints(app: Flask) -> None:
    """Each part of the app adds itself: its blueprint, its sidebar entries, flows,
    settings, audit labels, attachments and page parts, in this order (the sidebar's)."""
    # The chapters import mktapp's modules: imported here, not when `mktapp` is, so that a
    # script importing one module does not load the whole app.
    from mktapp import (  # noqa: PLC0415
        auth,
        brand,
        contracts,
        dashboard,
        expense,
        org,
        research,
        sales,
        service,
    )
    from mktapp.core import (  # noqa: PLC0415
        approval_views,
        attachment_views,
        audit_views,
        notification_views,
        picker_views,
        views,
        workcal_views,
    )

    for part in (
        auth,
        dashboard,
        org,
        views,
        approval_views,
        workcal_views,
        audit_views,
        attachment_views,
        notification_views,
        picker_views,
        # The chapters in the policy's order (P2 research ... P6 expense): the approval
        # settings and the approvals page list their flows in it.
        research,
        brand,
        sales,
        contracts,
        service,
        expense,
    ):
        part.register(app)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _register_hooks(app: Flask) -> None:

    app.jinja_env.globals.update(
        sidebar_for=sidebar_for,
        layout_links=layout_links,
        has_endpoint=lambda name: name in app.view_functions,
        can=can,
        role_label=role_label,
        role_labels=role_labels,
    )

    @app.before_request
    def _idle_session() -> None:
        # A permanent session is renewed on each request, so it lapses after
        # SESSION_IDLE_MINUTES without one.
        session.permanent = True
        g.request_id = request.headers.get("X-Request-Id", "")

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("HTTPS"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    static_files.init_app(app)

    htmx.init_app(app)  # registered last, so it runs first: the headers above apply to it
