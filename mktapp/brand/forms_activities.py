"""Forms of market activities (P3.2): the plan with its staff and budget rows, the change
request's reason, cancelling, submitting over budget."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from mktapp.brand import activities as svc
from mktapp.core.forms import AppForm, LocalDateField, RowForm, sensible_date
from mktapp.core.pickers import SHORT_LIST, PickerField
from mktapp.expense.common import MoneyError, category_choices, parse_money
from mktapp.models.brand import ACTIVITY_FORMS, ACTIVITY_KINDS

MAX_STAFF = 40
MAX_LINES = 40


class StaffRow(RowForm):
    user_id = PickerField(
        _l("Colleague"),
        source="activity_staff",
        select_up_to=SHORT_LIST,
        invalid_message=_l("Choose a colleague."),
    )
    duty = StringField(_l("Duty"), validators=[Length(max=200)])


class LineRow(RowForm):
    category = SelectField(_l("Category"), validate_choice=False, default="")
    period = StringField(
        _l("Month"), validators=[Length(max=7)], render_kw={"placeholder": "2026-11"}
    )
    amount = StringField(
        _l("Amount"), validators=[Length(max=30)], render_kw={"inputmode": "decimal"}
    )
    note = StringField(_l("Note"), validators=[Length(max=200)])


class ActivityForm(AppForm):
    kind = SelectField(_l("Kind"), validators=[DataRequired()], validate_choice=False)
    theme = StringField(_l("Theme"), validators=[DataRequired(), Length(max=200)])
    purpose = TextAreaField(
        _l("Activity purpose"),
        validators=[Length(max=5000)],
        description=_l("What the activity should achieve for the brand and for sales."),
    )
    target_participants = IntegerField(
        _l("Target participants"),
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
        render_kw={"inputmode": "numeric"},
    )
    target_leads = IntegerField(
        _l("Target leads"),
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
        render_kw={"inputmode": "numeric"},
    )
    target_sales = DecimalField(
        _l("Target sales (¥)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=Decimal("999999999999"))],
        render_kw={"inputmode": "decimal"},
    )
    start_on = LocalDateField(_l("Starts"), validators=[InputRequired(), sensible_date])
    end_on = LocalDateField(_l("Ends"), validators=[InputRequired(), sensible_date])
    place = StringField(_l("Place"), validators=[Length(max=200)])
    form = SelectField(_l("Form"), validate_choice=False, default="offline")
    audience = TextAreaField(_l("Target audience"), validators=[Length(max=5000)])
    content = TextAreaField(
        _l("Activity content"),
        validators=[Length(max=20000)],
        description=_l("The programme: what happens, in what order."),
    )
    staff = FieldList(FormField(StaffRow), min_entries=3, max_entries=MAX_STAFF)
    lines = FieldList(FormField(LineRow), min_entries=3, max_entries=MAX_LINES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", "—")] + ACTIVITY_KINDS.choices()
        self.form.choices = ACTIVITY_FORMS.choices()
        self._people = svc.staff_people()  # one query for every row's select
        self._categories = [("", "—")] + category_choices()
        self._choices()

    def add_row(self, which: str) -> None:
        target = self.staff if which == "staff" else self.lines
        if len(target.entries) < target.max_entries:
            target.append_entry()
        self._choices()

    def _choices(self) -> None:
        for entry in self.staff:
            entry.form.user_id.offer(self._people)
        for entry in self.lines:
            entry.form.category.choices = self._categories

    def load(self, data: svc.PlanInput) -> None:
        """Fill the form from a plan (editing, or a change request's starting point)."""
        for name in (
            "kind",
            "theme",
            "purpose",
            "target_participants",
            "target_leads",
            "target_sales",
            "start_on",
            "end_on",
            "place",
            "form",
            "audience",
            "content",
        ):
            getattr(self, name).data = getattr(data, name)
        for lst in (self.staff, self.lines):
            while len(lst.entries):
                lst.pop_entry()
        for user_id, duty in data.staff:
            self.staff.append_entry({"user_id": user_id, "duty": duty})
        for line in data.lines:
            self.lines.append_entry(
                {
                    "category": line.category,
                    "period": f"{line.year}-{line.month:02d}",
                    "amount": f"{line.amount:.2f}",
                    "note": line.note,
                }
            )
        for lst in (self.staff, self.lines):
            while len(lst.entries) < 2:
                lst.append_entry()
        self._choices()

    def to_input(self) -> svc.PlanInput:
        """The plan as typed; blank rows are left out. Rows that cannot be read raise
        ActivityError with every problem (next to its row's field)."""
        problems: list[tuple[str, str]] = []
        staff = []
        for i, entry in enumerate(self.staff):
            row = entry.form
            if row.user_id.data:
                staff.append((row.user_id.data, row.duty.data or ""))
            elif (row.duty.data or "").strip():
                problems.append((f"staff-{i}-user_id", str(_l("Choose a colleague."))))
        lines = []
        start = self.start_on.data
        for i, entry in enumerate(self.lines):
            row = entry.form
            category = (row.category.data or "").strip()
            raw_amount = (row.amount.data or "").strip()
            period = (row.period.data or "").strip()
            if not category and not raw_amount and not (row.note.data or "").strip():
                continue
            if not category:
                problems.append((f"lines-{i}-category", str(_l("Choose a budget category."))))
            try:
                text = raw_amount.replace(",", "").replace("¥", "").replace("￥", "").strip()
                negative = text.startswith("-")
                amount = parse_money(text.lstrip("-"), allow_zero=True, blank_is_zero=False)
                if negative and amount:
                    amount = -amount
            except MoneyError as error:
                problems.append((f"lines-{i}-amount", str(error)))
                amount = Decimal("0")
            year = month = 0
            if period:
                try:
                    y, m = period.split("-")
                    year, month = int(y), int(m)
                except ValueError:
                    year = month = 0
            elif start is not None:
                year, month = start.year, start.month
            lines.append(svc.LineInput(category, year, month, amount, row.note.data or ""))
        data = svc.PlanInput(
            kind=self.kind.data or "",
            theme=self.theme.data or "",
            purpose=self.purpose.data or "",
            target_participants=self.target_participants.data or 0,
            target_leads=self.target_leads.data or 0,
            target_sales=self.target_sales.data or Decimal("0"),
            start_on=self.start_on.data,
            end_on=self.end_on.data,
            place=self.place.data or "",
            content=self.content.data or "",
            form=self.form.data or "",
            audience=self.audience.data or "",
            staff=staff,
            lines=lines,
        )
        try:
            svc.check(data)
        except svc.ActivityError as error:
            problems.extend(p for p in error.problems if p not in problems)
        if problems:
            raise svc.ActivityError(problems[0][1], problems[0][0], problems)
        return data


class ChangeForm(ActivityForm):
    reason = TextAreaField(
        _l("Reason for the change"),
        validators=[Length(max=4000)],
        description=_l("Why the approved plan has to change; the approvers read it first."),
    )


class SubmitForm(AppForm):
    over_budget_reason = TextAreaField(
        _l("Reason for exceeding the budget"),
        validators=[Length(max=2000)],
        description=_l("Needed only when the plan exceeds the free budget."),
    )


class CancelForm(AppForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[Length(max=2000)])
