"""Sign-in, sign-out and password views."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from mktapp.auth import bp
from mktapp.auth.forms import ChangePasswordForm, LoginForm
from mktapp.auth.services import AuthError, authenticate, change_password
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
                    request.remote_addr or "-",
                    max_failures=cfg["LOGIN_MAX_FAILURES"],
                    window_seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"],
                    hash_method=cfg["PASSWORD_HASH_METHOD"],
                )
            except AuthError as error:
                form.password.errors = [str(error)]
                status = 429 if error.__class__.__name__ == "Throttled" else 422
            else:
                db.session.commit()
                # No "remember me": a session must lapse after the idle time.
                login_user(user, remember=False)
                return redirect_to(safe_next(form.next.data))
        else:
            status = 422
    return render("auth/login.html", block="login_form", status=status, form=form)


@bp.post("/logout")
@require()
def logout():
    """Sign out."""
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@require()
def password():
    """Change one's own password."""
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
                )
            except AuthError as error:
                form.current_password.errors = [str(error)]
                status = 422
            else:
                db.session.commit()
                flash(_("Your password has been changed."), "success")
                return redirect_to(url_for("dashboard.index"))
        else:
            status = 422
    return render("auth/password.html", block="password_form", status=status, form=form)
