"""Forms of the brand strategy (P3.1): a new version, a visual-identity file, a confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from mktapp.brand import strategy as svc
from mktapp.core.attachments import AttachmentField
from mktapp.core.forms import AppForm, RowForm


class ChannelRow(RowForm):
    name = StringField(_l("Channel"), validators=[Optional(), Length(max=120)])
    audience = StringField(_l("Audience"), validators=[Optional(), Length(max=400)])
    effect = TextAreaField(
        _l("Observed effect"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )


class StrategyForm(AppForm):
    positioning = TextAreaField(
        _l("Brand positioning"),
        validators=[DataRequired(message=_l("Describe the brand positioning.")), Length(max=5000)],
        description=_l("Who the brand serves, in which market, and how it differs."),
    )
    audiences = TextAreaField(
        _l("Target audiences"),
        validators=[Optional(), Length(max=5000)],
        description=_l("The customer groups the brand speaks to."),
    )
    value_proposition = TextAreaField(
        _l("Value proposition"), validators=[Optional(), Length(max=5000)]
    )
    slogan = StringField(_l("Slogan"), validators=[Optional(), Length(max=200)])
    colours = StringField(
        _l("Standard colours"),
        validators=[Optional(), Length(max=400)],
        description=_l(
            "Hex code and name, separated by commas, e.g. #0b5cad Brand blue, #f5a623 Energy orange"
        ),
    )
    image_notes = TextAreaField(
        _l("Brand image guidelines"),
        validators=[Optional(), Length(max=10000)],
        description=_l(
            "How the logo, colours and materials are used, so they look the same everywhere."
        ),
    )
    logo_attachment_id = SelectField(
        _l("Logo"), coerce=int, choices=[], validate_choice=False, validators=[Optional()]
    )
    channels = FieldList(FormField(ChannelRow), min_entries=1, max_entries=svc.MAX_CHANNELS)
    change_note = TextAreaField(
        _l("Change note"),
        validators=[
            DataRequired(message=_l("Say what changed in this version and why (the change note).")),
            Length(max=2000),
        ],
        description=_l("What changed in this version and why; shown in the history."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logo_attachment_id.choices = [(0, "—")] + [
            (a.id, a.filename) for a in svc.logo_choices()
        ]

    def validate_colours(self, field):
        try:
            svc.parse_colours(field.data or "")
        except svc.StrategyError as error:
            raise ValidationError(error.message) from None

    def load(self, data: svc.StrategyInput) -> None:
        """Fill the form from a version (the edit form starts from the current one)."""
        for name in (
            "positioning",
            "audiences",
            "value_proposition",
            "slogan",
            "colours",
            "image_notes",
        ):
            getattr(self, name).data = getattr(data, name)
        self.logo_attachment_id.data = data.logo_attachment_id or 0
        while len(self.channels.entries):
            self.channels.pop_entry()
        for channel in data.channels:
            self.channels.append_entry(
                {"name": channel.name, "audience": channel.audience, "effect": channel.effect}
            )
        self.channels.append_entry()  # a blank row for a new channel

    def to_input(self) -> svc.StrategyInput:
        return svc.StrategyInput(
            positioning=self.positioning.data or "",
            audiences=self.audiences.data or "",
            value_proposition=self.value_proposition.data or "",
            slogan=self.slogan.data or "",
            colours=self.colours.data or "",
            image_notes=self.image_notes.data or "",
            change_note=self.change_note.data or "",
            logo_attachment_id=self.logo_attachment_id.data or None,
            channels=[
                svc.ChannelInput(
                    entry.form.name.data or "",
                    entry.form.audience.data or "",
                    entry.form.effect.data or "",
                )
                for entry in self.channels
            ],
        )


class FileForm(AppForm):
    file = AttachmentField(_l("Visual-identity file"), required=True)
