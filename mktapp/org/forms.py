"""Forms of the organisation chapter: user administration, groups and posts.

Lengths follow the columns in mktapp/models/org.py; select fields refuse ids
that are not among their choices, so an unknown group, post or role is a
message next to the field rather than a crash.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from mktapp.auth.passwords import HINT, length_checks
from mktapp.core.forms import AppForm
from mktapp.core.phones import PhoneField
from mktapp.core.pickers import SHORT_LIST, PickerField
from mktapp.org.services import username_taken

# The rules (auth.passwords, checked by the service that sets every password) and who to tell.
INITIAL_HINT = _l(
    "At least 10 characters, not containing the username, and not a common password. "
    "Tell it to the person; they can change it."
)

USERNAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Deliberately plain: one @, something before it, a dot in the domain, no spaces.
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _int_or_zero(value) -> int:
    """Coerce a select's value; an empty choice means "none" (0)."""
    if value in (None, ""):
        return 0
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice drawn as checkboxes (the forms macro draws it as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _PersonFields(AppForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    email = StringField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=120),
            Regexp(EMAIL_RE, message=_l("Enter an e-mail address like name@example.cn.")),
        ],
    )
    phone = PhoneField(_l("Phone"), validators=[Optional(), Length(max=40)])
    roles = MultiCheckboxField(
        _l("Roles"),
        validators=[DataRequired(message=_l("Choose at least one role."))],
        description=_l("The roles decide what this person may see and do."),
    )
    group_id = SelectField(_l("Group"), coerce=_int_or_zero, validate_choice=True)
    post_id = SelectField(_l("Post"), coerce=_int_or_zero, validate_choice=True)
    joined_on = DateField(
        _l("Joined on"),
        validators=[Optional()],
        description=_l("The date the person joined the department."),
    )

    def set_choices(self, roles, groups, posts) -> None:
        self.roles.choices = roles
        self.group_id.choices = [(0, _l("— no group —"))] + [(g.id, g.name) for g in groups]
        self.post_id.choices = [(0, _l("— no post —"))] + [(p.id, p.name) for p in posts]

    def person(self) -> dict:
        """The person as typed, as services.create_user and update_user take it."""
        return {
            "display_name": self.display_name.data,
            "roles": self.roles.data,
            "email": self.email.data,
            "phone": self.phone.data,
            "group_id": self.group_id.data,
            "post_id": self.post_id.data,
            "joined_on": self.joined_on.data,
        }


class UserCreateForm(_PersonFields):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(
                USERNAME_RE,
                message=_l(
                    "Use letters, digits, dot, dash or underscore, starting with a letter or digit."
                ),
            ),
        ],
        description=_l("Used to sign in; letters and digits. Case does not matter."),
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), *length_checks()],
        description=INITIAL_HINT,
    )

    def validate_username(self, field) -> None:

        if field.data and username_taken(field.data):
            raise ValidationError(_l("This username is taken (usernames ignore case)."))


class UserEditForm(_PersonFields):
    active = BooleanField(_l("Active (may sign in)"))


class ResetPasswordForm(AppForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), *length_checks()],
        description=HINT,
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class HandoverForm(AppForm):
    target_id = PickerField(
        _l("Hand the records to"),
        source="people",
        validators=[DataRequired(message=_l("Choose the person to hand the records to."))],
        placeholder=_l("Type part of a name or username"),
        invalid_message=_l("Records can only be handed to an active user."),
    )


class GroupForm(AppForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    # The group's active members: set leader_id.scope to the group's id.
    leader_id = PickerField(
        _l("Leader"),
        source="group_members",
        select_up_to=SHORT_LIST,
        blank=_l("— no leader —"),
        invalid_message=_l("The leader must be an active member of the group."),
        description=_l("The leader acts as department head in approvals; an active member."),
    )


class PostForm(AppForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    duties = TextAreaField(
        _l("Duties"),
        validators=[DataRequired(), Length(max=10000)],
        description=_l("One duty per line."),
        render_kw={"rows": 10},
    )
