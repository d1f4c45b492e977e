"""The forms of the after-sales settings: the service time limits (a field per ticket type,
priority and limit, typed in working hours), where each type goes (a department and a
default owner per type), and a department (name, leader, people)."""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from mktapp.core import pickers
from mktapp.core.forms import AppForm
from mktapp.core.permissions import visible
from mktapp.core.pickers import SHORT_LIST, PickerField
from mktapp.models import ServiceDepartment, User
from mktapp.models.service import TICKET_PRIORITIES, TICKET_TYPES, service_department_members
from mktapp.org.picker_sources import people_source
from mktapp.service import sla

# --- the service time limits ------------------------------------------------------------

LIMITS = (
    ("response", _l("First response time")),
    ("resolution", _l("Resolution time")),
)
TOO_LONG = _l("At most 60 days.")


def hours_text(minutes: int | None) -> str:
    """Working minutes as the hours a person reads and types: 90 -> "1.5", 100 -> "1.67"."""
    if minutes is None:
        return ""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)
    text = f"{hours:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_hours(text: str) -> int | None:
    """Hours typed ("8", "0.5", "１．５", "8 小时") as whole working minutes; None when
    blank. ValueError (the field's message) for anything that is not a number ("1,5" too:
    a decimal comma and a thousands comma cannot be told apart)."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip()
    for unit in ("小时", "h", "H"):
        text = text.removesuffix(unit).strip()
    if not text:
        return None
    try:
        hours = Decimal(text)
    except InvalidOperation:
        raise ValueError(str(_l("Enter a number of hours, like 0.5 or 8."))) from None
    if not hours.is_finite():
        raise ValueError(str(_l("Enter a number of hours, like 0.5 or 8.")))
    if hours.adjusted() > 6:  # a million hours and more: no sense in working it out
        raise ValueError(str(TOO_LONG))
    return int((hours * 60).to_integral_value(ROUND_HALF_UP))


class HoursField(StringField):
    """Working hours typed as text (decimals allowed); .data is whole working minutes, or
    None. What was typed comes back as typed. A blank or a text that is no number is not a
    validation error but `problem`: the page reports it with the limits' own refusals
    (sla.save_matrix), every one at its input at once."""

    problem: str | None = None

    def process_formdata(self, valuelist):
        self.data, self.problem = None, None
        try:
            self.data = parse_hours(valuelist[0] if valuelist else "")
        except ValueError as error:
            self.problem = str(error)
        else:
            if self.data is None:
                self.problem = str(_l("Enter the hours."))

    def process_data(self, value):
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return hours_text(self.data)


class SlaForm(AppForm):
    """The time limits of every ticket type and priority: a field named by sla.field_name
    ("repair-urgent-response"), so that a refusal of sla.save_matrix lands at its input.
    `seen`: the limits as they were when the page was read (a save over another's is
    refused once)."""

    seen = HiddenField()

    def values(self) -> dict[tuple[str, str], tuple[int | None, int | None]]:
        """(type, priority) -> (response, resolution) minutes, for the pairs typed well."""
        out = {}
        for t in TICKET_TYPES:
            for p in TICKET_PRIORITIES:
                response = self[sla.field_name(t, p, "response")]
                resolution = self[sla.field_name(t, p, "resolution")]
                if response.problem is None and resolution.problem is None:
                    out[(t, p)] = (response.data, resolution.data)
        return out

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for each limit left blank or typed as no number."""
        return [(f.name, f.problem) for f in self if getattr(f, "problem", None)]

    @classmethod
    def of(cls, table: dict[tuple[str, str], tuple[int, int]], seen: str) -> SlaForm:
        """The form filled with `table` (a GET: nothing posted)."""
        data = {"seen": seen}
        for (t, p), (response, resolution) in table.items():
            data[sla.field_name(t, p, "response")] = response
            data[sla.field_name(t, p, "resolution")] = resolution
        return cls(data=data)


def _limit_label(ticket_type: str, priority: str, which_label) -> object:
    return _l(
        "%(type)s, %(priority)s: %(limit)s (working hours)",
        type=TICKET_TYPES[ticket_type],
        priority=TICKET_PRIORITIES[priority],
        limit=which_label,
    )


for _t in TICKET_TYPES:
    for _p in TICKET_PRIORITIES:
        for _which, _label in LIMITS:
            setattr(
                SlaForm,
                sla.field_name(_t, _p, _which),
                HoursField(
                    _limit_label(_t, _p, _label),
                    render_kw={"inputmode": "decimal", "autocomplete": "off"},
                ),
            )


# --- where each ticket type goes ---------------------------------------------------------


def _department_people(user, scope):
    """The active people of one department (its group's, those it lists, its leader): whom
    its tickets may go to by default. Mirrors departments.people_of, as a query."""
    department_id = pickers.as_id(scope)
    if department_id is None:
        return select(User).where(false())
    # An archived department takes no tickets: nobody is offered.
    department = (ServiceDepartment.id == department_id, ServiceDepartment.archived_at.is_(None))
    listed = (
        select(service_department_members.c.user_id)
        .join(ServiceDepartment, ServiceDepartment.id == service_department_members.c.department_id)
        .where(*department)
    )
    group = select(ServiceDepartment.group_id).where(
        *department, ServiceDepartment.group_id.is_not(None)
    )
    leader = select(ServiceDepartment.leader_id).where(
        *department, ServiceDepartment.leader_id.is_not(None)
    )
    stmt = select(User).where(
        User.active.is_(True),
        or_(User.id.in_(listed), User.group_id.in_(group), User.id.in_(leader)),
    )
    return visible(stmt, user, User)


DEPARTMENT_PEOPLE = people_source(
    "service_department_people", _department_people, ("service.view",), scoped=True
)


def route_fields(ticket_type: str) -> tuple[str, str]:
    """The names of a type's two fields on the routing form."""
    return f"{ticket_type}-department_id", f"{ticket_type}-owner_id"


class RoutingForm(AppForm):
    """Each ticket type's department and default owner (none: the department's leader).
    Before validating or drawing, `prepare(choices, current)` gives each department select
    its choices and each owner picker its department."""

    def prepare(self, choices: list[tuple[int, str]], current: dict[str, int]) -> RoutingForm:
        """Each department select's choices, and each owner picker's department: the one
        chosen (posted, or asked for when the select changed), else where the type goes."""
        valid = {value for value, _label in choices}
        for t in TICKET_TYPES:
            department, owner = route_fields(t)
            self[department].choices = choices
            chosen = self[department].data
            self[owner].scope = chosen if chosen in valid else current.get(t)
        return self

    def values(self) -> dict[str, tuple[int | None, int | None]]:
        return {
            t: (self[route_fields(t)[0]].data, self[route_fields(t)[1]].data) for t in TICKET_TYPES
        }


def _as_department(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


for _t in TICKET_TYPES:
    _department, _owner = route_fields(_t)
    setattr(
        RoutingForm,
        _department,
        SelectField(
            _l("%(type)s: department", type=TICKET_TYPES[_t]),
            coerce=_as_department,
            choices=[],
            validate_choice=True,
        ),
    )
    setattr(
        RoutingForm,
        _owner,
        PickerField(
            _l("%(type)s: default owner", type=TICKET_TYPES[_t]),
            source=DEPARTMENT_PEOPLE.name,
            select_up_to=SHORT_LIST,
            blank=_l("— the department's leader —"),
            placeholder=_l("Type part of a name"),
            invalid_message=_l("The default owner must work in that department."),
        ),
    )


# --- a department ------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice drawn as checkboxes (the forms macro draws it as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DepartmentForm(AppForm):
    name = StringField(
        _l("Department name"),
        validators=[DataRequired(message=_l("Enter the department's name.")), Length(max=80)],
        description=_l("e.g. Technical department, Logistics department"),
    )
    description = TextAreaField(
        _l("What it handles"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    leader_id = PickerField(
        _l("Department leader"),
        source="people",
        select_up_to=SHORT_LIST,
        blank=_l("— no department leader —"),
        placeholder=_l("Type part of a name"),
        invalid_message=_l("The leader must be an active user."),
        description=_l(
            "Takes the department's tickets when a type names no default owner, and hears "
            "of its missed deadlines."
        ),
    )
    member_ids = MultiCheckboxField(
        _l("People"), coerce=int, choices=[], validators=[Optional()], validate_choice=True
    )

    def offer_people(self, people: list[User]) -> DepartmentForm:
        self.member_ids.choices = [(u.id, u.display_name) for u in people]
        return self
