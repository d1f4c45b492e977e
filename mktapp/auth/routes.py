"""Sign-in, sign-out and password views."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from mktapp.auth import bp
from mktapp.auth.forms import ChangePasswordForm, LoginForm
from mktapp.auth.services import (
    SESSION_TOKEN,
    AuthError,
    authenticate,
    change_password,
    end_session,
    start_session,
)
from mktapp.core.forms import put_error
from mktapp.core.htmx import redirect_to, render
from mktapp.core.permissions import public, require
from mktapp.core.views import safe_next
from mktapp.extensions import db


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            cfg = current_app.config
            try:
                user = authenticate(
                    form.username.data,
                    form.password.data,
                    # The client's address; behind a reverse proxy the one it forwards
                    # (ProxyFix, MKTAPP_TRUSTED_PROXIES).
                    request.remote_addr or "-",
                    max_failures=cfg["LOGIN_MAX_FAILURES"],
                    address_max_failures=cfg["LOGIN_ADDRESS_MAX_FAILURES"],
                    window_seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"],
                    max_delay_seconds=cfg["LOGIN_MAX_DELAY_SECONDS"],
                    hash_method=cfg["PASSWORD_HASH_METHOD"],
                )
            except AuthError as error:
                db.session.rollback()
                form.password.errors = [str(error)]
                status = error.status
            else:
                token = start_session(user)
                db.session.commit()
                # No "remember me": a session must lapse after the idle time.
                login_user(user, remember=False)
                session[SESSION_TOKEN] = token
                return redirect_to(safe_next(form.next.data))
        else:
            status = 422
    return render("auth/login.html", block="login_form", status=status, form=form)


@bp.post("/logout")
@require()
def logout():
    """Sign out: this session ends for good (a copy of its cookie no longer works)."""
    end_session(session.get(SESSION_TOKEN))
    db.session.commit()
    logout_user()
    session.pop(SESSION_TOKEN, None)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@require()
def password():
    """Change one's own password; every other session of the account ends."""
    form = ChangePasswordForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                change_password(
                    current_user,
                    form.current_password.data,
                    form.new_password.data,
                    current_app.config["PASSWORD_HASH_METHOD"],
                    keep=session.get(SESSION_TOKEN),
                )
            except AuthError as error:
                db.session.rollback()
                put_error(form, error)
                status = 422
            else:
                db.session.commit()
                flash(
                    _(
                        "Your password has been changed. You are still signed in here; "
                        "everywhere else you must sign in again."
                    ),
                    "success",
                )
                return redirect_to(url_for("dashboard.index"))
        else:
            status = 422
    return render("auth/password.html", block="password_form", status=status, form=form)
