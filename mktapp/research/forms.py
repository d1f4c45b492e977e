"""Forms of the research chapter: plans, milestones, staff, field notes, questionnaires."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from mktapp.core.forms import AppForm, LocalDateField, sensible_date
from mktapp.core.pickers import SHORT_LIST, PickerField
from mktapp.models import (
    NEWS_CATEGORIES,
    NEWS_IMPACTS,
    QUESTION_KINDS,
    RESEARCH_CONTENTS,
    RESEARCH_METHODS,
)
from mktapp.models.research import ADDRESS_HOURLY_LIMIT, ANSWER_LIMITS
from mktapp.research.plans import FIELD_METHODS


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice drawn as checkboxes (the forms macro draws it as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PlanForm(AppForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    purpose = TextAreaField(
        _l("Purpose"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l("What the research should find out, and what decision it supports."),
    )
    subjects = TextAreaField(
        _l("Subjects"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l("Who or what is studied: customer groups, regions, competitors, products."),
    )
    contents = MultiCheckboxField(_l("Content"), choices=[], validators=[Optional()])
    methods = MultiCheckboxField(_l("Methods"), choices=[], validators=[Optional()])
    start_on = LocalDateField(_l("Starts"), validators=[InputRequired(), sensible_date])
    end_on = LocalDateField(_l("Ends"), validators=[InputRequired(), sensible_date])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.contents.choices = RESEARCH_CONTENTS.choices()
        self.methods.choices = RESEARCH_METHODS.choices()


class MilestoneForm(AppForm):
    due_on = LocalDateField(_l("Date"), validators=[InputRequired(), sensible_date])
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=200)])


class AssignmentForm(AppForm):
    user_id = PickerField(
        _l("Colleague"),
        source="research_staff",
        select_up_to=SHORT_LIST,
        validators=[DataRequired(message=_l("Choose a colleague."))],
        invalid_message=_l("Choose a colleague."),
    )
    task = StringField(_l("Task"), validators=[DataRequired(), Length(max=300)])


class NoteForm(AppForm):
    method = SelectField(_l("Method"), validators=[DataRequired()])
    held_on = LocalDateField(_l("Date"), validators=[InputRequired(), sensible_date])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    participants = TextAreaField(
        _l("Participants"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Who took part: names, companies, roles."),
    )
    notes = TextAreaField(_l("Notes"), validators=[DataRequired(), Length(max=50000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [(m, str(RESEARCH_METHODS[m])) for m in FIELD_METHODS]


class SurveyForm(AppForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    intro = TextAreaField(
        _l("Introduction"),
        validators=[Optional(), Length(max=3000)],
        description=_l("Shown above the questions: who asks, why, how long it takes."),
    )
    kind = SelectField(
        _l("Type"),
        choices=[
            ("general", _l("General questionnaire")),
            ("satisfaction", _l("Customer satisfaction (runs each period)")),
        ],
    )
    period = StringField(
        _l("Period"),
        validators=[Optional(), Length(max=40)],
        description=_l("For a satisfaction survey, e.g. 2026 Q2."),
    )
    plan_id = SelectField(
        _l("Research plan"),
        coerce=int,
        validators=[Optional()],
        description=_l(
            "Optional. A questionnaire that belongs to a plan can be published once the plan "
            "is approved."
        ),
    )
    answer_limit = SelectField(
        _l("Who may answer"),
        choices=[],
        default="open",
        validators=[Optional()],
        description=_l(
            "One answer per browser: a second attempt from the same browser is refused "
            "(a cookie remembers it). Invited customers only: the public link takes no "
            "answers; each personal invitation link takes one."
        ),
    )
    address_hourly_limit = IntegerField(
        _l("Answers per address per hour"),
        default=ADDRESS_HOURLY_LIMIT,
        validators=[Optional(), NumberRange(min=0, max=10_000)],
        description=_l(
            "How many answers the public link takes from one network address within an "
            "hour; more are turned away with a polite message and counted on the "
            "questionnaire's page. Colleagues in one office often share an address. "
            "0: no limit."
        ),
    )

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.answer_limit.choices = ANSWER_LIMITS.choices()


class QuestionForm(AppForm):
    kind = SelectField(_l("Question type"), validators=[DataRequired()])
    text = StringField(_l("Question"), validators=[DataRequired(), Length(max=500)])
    help = StringField(_l("Hint"), validators=[Optional(), Length(max=500)])
    required = BooleanField(_l("Required"))
    options = TextAreaField(
        _l("Choices"),
        validators=[Optional(), Length(max=6000)],
        description=_l("One choice a line (single and multiple choice)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = QUESTION_KINDS.choices()


class PublishForm(AppForm):
    closes_on = LocalDateField(
        _l("Closes on"),
        validators=[Optional(), sensible_date],
        description=_l("Answers are taken until the end of this day. Empty: until closed by hand."),
    )
    cap = IntegerField(
        _l("Response cap"),
        validators=[Optional(), NumberRange(min=1, max=1_000_000)],
        description=_l("Close automatically after this many answers. Empty: no cap."),
    )


class PeriodForm(AppForm):
    period = StringField(_l("New period"), validators=[DataRequired(), Length(max=40)])


class ReportForm(AppForm):
    """A research report: its plan, title, six Markdown sections and the departments."""

    plan_id = SelectField(_l("Research plan"), coerce=int, validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    background = TextAreaField(_l("Research background"), validators=[Length(max=20000)])
    objectives = TextAreaField(_l("Research objectives"), validators=[Length(max=20000)])
    methodology = TextAreaField(_l("Research methods"), validators=[Length(max=20000)])
    findings = TextAreaField(_l("Main findings"), validators=[Length(max=40000)])
    conclusions = TextAreaField(_l("Conclusions"), validators=[Length(max=20000)])
    recommendations = TextAreaField(_l("Recommendations"), validators=[Length(max=20000)])
    groups = MultiCheckboxField(
        _l("Distributed to"),
        coerce=int,
        choices=[],
        validators=[Optional()],
        description=_l("The departments that receive the approved report."),
    )


class BlockForm(AppForm):
    """Insert a live block (a question's chart and table, or a cross-tab) into a section."""

    section = SelectField(_l("Section"), choices=[], validators=[InputRequired()])
    question = SelectField(_l("Question"), coerce=int, choices=[], validators=[InputRequired()])
    against = SelectField(
        _l("Cross-tab against"),
        coerce=int,
        choices=[],
        validators=[Optional()],
        description=_l("Leave empty for the question's own chart and table."),
    )


class CompetitorForm(AppForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    market_share = DecimalField(
        _l("Market share (estimate)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
        description=_l("Your best estimate, 0 to 100; leave empty when unknown."),
    )
    products = TextAreaField(_l("Products offered"), validators=[Length(max=5000)])
    pricing = TextAreaField(_l("Pricing strategy"), validators=[Length(max=5000)])
    channels = TextAreaField(_l("Sales channels"), validators=[Length(max=5000)])
    promotions = TextAreaField(_l("Promotions"), validators=[Length(max=5000)])
    strengths = TextAreaField(_l("Strengths"), validators=[Length(max=5000)])
    weaknesses = TextAreaField(_l("Weaknesses"), validators=[Length(max=5000)])


class NewsForm(AppForm):
    category = SelectField(_l("News category"), choices=[], validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=5000)])
    source_url = StringField(
        _l("Source"),
        validators=[Optional(), Length(max=500)],
        description=_l("The web address of the article, notice or report."),
    )
    published_on = LocalDateField(_l("Date"), validators=[InputRequired(), sensible_date])
    impact = SelectField(_l("Expected impact"), choices=[], validators=[InputRequired()])

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.category.choices = NEWS_CATEGORIES.choices()
        self.impact.choices = NEWS_IMPACTS.choices()


class CompetitorBlockForm(AppForm):
    """Insert a side-by-side comparison of chosen competitors into a section."""

    section = SelectField(_l("Section"), choices=[], validators=[InputRequired()])
    competitors = MultiCheckboxField(
        _l("Competitors"), coerce=int, choices=[], validators=[DataRequired()]
    )


class FigureForm(AppForm):
    segment = StringField(
        _l("Segment"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("A product line, customer group or region, e.g. 会议平板 · 华东."),
    )
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    size = FloatField(
        _l("Market size (10,000 yuan)"), validators=[InputRequired(), NumberRange(min=0)]
    )
    growth = FloatField(
        _l("Growth (%)"),
        validators=[Optional(), NumberRange(min=-100, max=1000)],
        description=_l("Over the year before; leave empty when unknown."),
    )
    source = StringField(
        _l("Source"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("Where the estimate comes from: a report, an association, our own survey."),
    )


class PhoneAnswersForm(AppForm):
    """Answers taken by phone: the customer asked (found by name), with the CSRF token; the
    answers themselves are read by the survey (surveys.submit_response)."""

    customer_id = PickerField(
        _l("Customer (if known)"),
        source="customers",
        placeholder=_l("Type part of the customer's name"),
        invalid_message=_l("Choose a customer from the list, or leave it empty."),
    )
