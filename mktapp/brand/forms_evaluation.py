"""Forms of an activity's evaluation (P3.4): what the data cannot know."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from mktapp.brand.evaluation import LIMITS, EvaluationInput
from mktapp.core.forms import AppForm

_NUMBER = _l("Enter a whole number of zero or more.")


def _count(label, name: str, description=None) -> IntegerField:
    limit = f"{LIMITS[name]:,}"
    return IntegerField(
        label,
        default=0,
        validators=[
            InputRequired(message=_NUMBER),
            NumberRange(min=0, message=_NUMBER),
            NumberRange(
                max=LIMITS[name],
                message=_l("At most %(max)s: check the number.", max=limit),
            ),
        ],
        description=description,
        render_kw={"inputmode": "numeric", "min": 0, "max": LIMITS[name]},
    )


class EvaluationForm(AppForm):
    reach = _count(
        _l("Reach"), "reach", _l("People reached: views, readers, audience (all channels).")
    )
    media_coverage = _count(
        _l("Media coverage"), "media_coverage", _l("Articles and reports about the activity.")
    )
    media_notes = TextAreaField(
        _l("Media notes"),
        validators=[Length(max=4000)],
        description=_l("Which media, with links or titles."),
        render_kw={"rows": 2},
    )
    inquiries = _count(_l("Inquiries"), "inquiries", _l("Inquiries received because of it."))
    new_followers = _count(
        _l("New followers"), "new_followers", _l("New followers on the company's accounts.")
    )
    what_worked = TextAreaField(
        _l("What worked"), validators=[Length(max=4000)], render_kw={"rows": 3}
    )
    what_to_change = TextAreaField(
        _l("What to change next time"), validators=[Length(max=4000)], render_kw={"rows": 3}
    )

    def to_input(self) -> EvaluationInput:
        return EvaluationInput(
            reach=self.reach.data or 0,
            media_coverage=self.media_coverage.data or 0,
            media_notes=self.media_notes.data or "",
            inquiries=self.inquiries.data or 0,
            new_followers=self.new_followers.data or 0,
            what_worked=self.what_worked.data or "",
            what_to_change=self.what_to_change.data or "",
        )
