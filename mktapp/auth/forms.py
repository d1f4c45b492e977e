"""Forms for signing in and changing one's password."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from mktapp.auth.passwords import HINT, length_checks
from mktapp.core.forms import AppForm


class LoginForm(AppForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    # The length is checked here too; the rest (not the username, not a common password)
    # by the service that sets every password (auth.services.set_password).
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), *length_checks()],
        description=HINT,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
