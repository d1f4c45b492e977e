"""Questionnaire views (P2.2, P2.4): the list, the builder (htmx), preview, publishing,
invitations, answers taken by phone, the analysis with cross-tabs, periods, exports."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mktapp.core import nav
from mktapp.core.actions import act, again, edit_page, part_or_404, record_action, refreshed
from mktapp.core.exports import xlsx_response
from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import is_partial, redirect_to, render
from mktapp.core.lists import list_page
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.core.qr import qr_svg
from mktapp.extensions import db
from mktapp.models import (
    CUSTOMER_GRADES,
    QUESTION_KINDS,
    RESPONSE_CHANNELS,
    SURVEY_STATUSES,
    Customer,
    ResearchPlan,
    Survey,
    SurveyQuestion,
)
from mktapp.research import analysis, bp
from mktapp.research import surveys as svc
from mktapp.research.forms import (
    PeriodForm,
    PhoneAnswersForm,
    PublishForm,
    QuestionForm,
    SurveyForm,
)

# --- the list ------------------------------------------------------------------------------------


@bp.get("/surveys/")
@require("research.view")
def surveys():
    """Questionnaires: search, status and type filters, paging."""
    query = svc.SurveyQuery.from_args(request.args)
    return list_page(
        "research/surveys.html",
        "survey_rows",
        query,
        svc.list_surveys,
        url_for("research.surveys", **query.args()),
        statuses=SURVEY_STATUSES,
    )


@bp.get("/surveys.xlsx")
@require("research.view")
def surveys_xlsx():
    """The filtered questionnaires (all pages) as an Excel workbook."""
    query = svc.SurveyQuery.from_args(request.args)
    name = _("Questionnaires")
    rows = svc.export_surveys(current_user, query)
    return svc.SURVEYS.xlsx(rows, name, filename=f"{name}.xlsx")


@bp.post("/surveys/<int:survey_id>/archive")
@require("research.edit")
def survey_archive(survey_id: int):
    """Put away a draft or closed questionnaire (kept with its answers, not deleted)."""
    return _act(survey_id, svc.archive, _("Questionnaire archived."), url_for("research.surveys"))


def _act(survey_id: int, action, message: str, then: str | None = None):
    """A step of the questionnaire's life: done, its page (or `then`)."""
    then = then or url_for("research.survey_detail", survey_id=survey_id)
    return act(_detail, Survey, survey_id, action, message, then)


def _plan_choices():
    plans = db.session.scalars(
        select(ResearchPlan)
        .where(ResearchPlan.archived_at.is_(None), ResearchPlan.status != "done")
        .order_by(ResearchPlan.start_on.desc())
        .limit(200)
    ).unique()
    return [(0, "—")] + [(p.id, f"{p.number} {p.title}") for p in plans]


def _survey_page(form: SurveyForm, survey: Survey | None, do, message: str):
    """The questionnaire's settings (`survey` None: a new one), for GET and POST; saved,
    its page."""
    form.plan_id.choices = _plan_choices()
    return edit_page(
        "research/survey_form.html",
        "survey_form",
        form,
        survey,
        do,
        message=message,
        then=lambda survey: url_for("research.survey_detail", survey_id=survey.id),
        survey=survey,
    )


@bp.route("/surveys/new", methods=["GET", "POST"])
@require("research.edit")
def survey_new():
    """Start a questionnaire: its title, introduction and type; questions come next."""
    form = SurveyForm()
    if request.method == "GET" and request.args.get("plan", "").isdigit():
        form.plan_id.data = int(request.args["plan"])
    return _survey_page(
        form,
        None,
        lambda _none, form: svc.create_survey(
            current_user,
            form.title.data,
            form.intro.data,
            form.kind.data,
            form.plan_id.data or None,
            form.period.data,
            form.answer_limit.data or "open",
            form.address_hourly_limit.data,
        ),
        _("Questionnaire created. Add its questions."),
    )


@bp.route("/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
@require("research.edit")
def survey_edit(survey_id: int):
    """Change a questionnaire's title, introduction, period and plan."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    form = SurveyForm(obj=survey) if request.method == "GET" else SurveyForm()
    if request.method == "GET":
        form.plan_id.data = survey.plan_id or 0
    return _survey_page(
        form,
        survey,
        lambda survey, form: svc.update_survey(
            current_user,
            survey,
            form.title.data,
            form.intro.data,
            form.kind.data,
            form.plan_id.data or None,
            form.period.data,
            # Kept as it is when the form did not send it (an older page, a script).
            form.answer_limit.data if "answer_limit" in request.form else None,
            # Likewise (an empty box keeps it too).
            form.address_hourly_limit.data if "address_hourly_limit" in request.form else None,
        ),
        _("Questionnaire saved."),
    )


# --- the builder ----------------------------------------------------------------------------------


def _public_url(survey: Survey) -> str:
    return url_for("research.answer", token=survey.token, _external=True) if survey.token else ""


def _detail(survey: Survey, status=200, block=None, **extra):
    public_url = _public_url(survey)
    context = {
        "survey": survey,
        "questions": svc.numbered(survey.questions),
        "may_build": svc.may_build(current_user, survey),
        "may_edit": svc.may_edit(current_user, survey),
        "question_form": extra.pop("question_form", None)
        or QuestionForm(formdata=None, kind="single"),
        "publish_form": extra.pop("publish_form", None) or PublishForm(formdata=None),
        "period_form": extra.pop("period_form", None) or PeriodForm(formdata=None),
        "confirm": ConfirmForm(),
        "public_url": public_url,
        "accepting": svc.accepting(survey),
        "kinds": QUESTION_KINDS,
        "editing": extra.pop("editing", None),
        "edit_form": extra.pop("edit_form", None),
        "series": svc.series_of(survey) if survey.kind == "satisfaction" else [],
        "publish_blocker": svc.publish_blocker(survey) if survey.status == "draft" else None,
        "closes_on": svc.closes_on(survey),
        # The link's QR code (none when only invitation links take answers).
        "qr": qr_svg(public_url) if public_url and survey.answer_limit != "invitation" else "",
    }
    context.update(extra)
    return render("research/survey_detail.html", block=block, status=status, **context)


@bp.get("/surveys/<int:survey_id>")
@require("research.view")
def survey_detail(survey_id: int):
    """The questionnaire: its questions (the builder while a draft), link and state."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    return _detail(survey)


def _after_build(survey: Survey):
    if is_partial():
        return _detail(survey, block="survey_questions")
    return redirect_to(url_for("research.survey_detail", survey_id=survey.id) + "#survey_questions")


@bp.post("/surveys/<int:survey_id>/questions")
@require("research.edit")
def question_add(survey_id: int):
    """Add a question (or a section heading) at the end."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    return _build_action(
        survey,
        survey,
        lambda survey, form: svc.add_question(
            current_user,
            survey,
            form.kind.data,
            form.text.data,
            form.help.data,
            form.required.data,
            form.options.data,
        ),
        form=QuestionForm(),
        form_as="question_form",
    )


def _question(question_id: int) -> SurveyQuestion:
    return part_or_404(SurveyQuestion, question_id, Survey, "survey_id")


@bp.get("/questions/<int:question_id>/edit")
@require("research.edit")
def question_edit(question_id: int):
    """The question's editor, in place of the question."""
    question = _question(question_id)
    form = QuestionForm(obj=question)
    return _detail(question.survey, block="survey_questions", editing=question.id, edit_form=form)


@bp.post("/questions/<int:question_id>")
@require("research.edit")
def question_update(question_id: int):
    """Save a question's text, hint, choices and required flag."""
    question = _question(question_id)
    form = QuestionForm()
    form.kind.data = question.kind
    return _build_action(
        question.survey,
        question,
        lambda question, form: svc.update_question(
            current_user,
            question,
            form.text.data,
            form.help.data,
            form.required.data,
            form.options.data,
        ),
        form=form,
        form_as="edit_form",
        editing=question_id,
    )


@bp.post("/questions/<int:question_id>/move")
@require("research.edit")
def question_move(question_id: int):
    """Move a question up or down."""
    question = _question(question_id)
    return _build_action(
        question.survey,
        question,
        lambda question, form: svc.move_question(
            current_user, question, request.form.get("dir", "")
        ),
    )


@bp.post("/questions/<int:question_id>/remove")
@require("research.edit")
def question_remove(question_id: int):
    """Take a question out of a draft questionnaire."""
    question = _question(question_id)
    return _build_action(
        question.survey,
        question,
        lambda question, form: svc.remove_question(current_user, question),
    )


def _build_action(survey: Survey, record, do, form=None, form_as: str | None = None, **context):
    """Change the questionnaire's questions (`do(record, form)`): the builder redrawn, or
    refused, redrawn (422) with the form again (passed as `form_as`, with `context`) or
    the message in place."""
    return record_action(
        record,
        do,
        message=None,
        then=lambda _outcome: _after_build(refreshed(survey)),
        on_error=again(
            _detail,
            Survey,
            survey.id,
            form_as=form_as,
            message_as="build_error",
            block="survey_questions",
            **context,
        ),
        form=form,
    )


@bp.get("/surveys/<int:survey_id>/preview")
@require("research.view")
def survey_preview(survey_id: int):
    """The questionnaire as a respondent will see it (answers are not taken here)."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    return render(
        "research/public.html",
        survey=survey,
        questions=svc.numbered(survey.questions),
        preview=True,
        problems={},
        values={},
        action="",
        fragment=None,
    )


# --- publishing -----------------------------------------------------------------------------------


@bp.post("/surveys/<int:survey_id>/publish")
@require("research.edit")
def survey_publish(survey_id: int):
    """Publish: a public link with an unguessable token; closes at a date or a cap."""
    return _publishing(survey_id, svc.publish, _("Published. Share the link below."), "closes_on")


def _publishing(survey_id: int, action, message: str, closes_at: str | None):
    """Publish or reopen with the PublishForm's closing day and cap; refused, the form
    again with each problem at its field (`closes_at`: the field the closing time's
    problems go to; None: above the form)."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    return record_action(
        survey,
        lambda survey, form: action(
            current_user, survey, svc.end_of_day(form.closes_on.data), form.cap.data
        ),
        message=message,
        then=url_for("research.survey_detail", survey_id=survey.id),
        on_error=again(
            _detail,
            Survey,
            survey_id,
            form_as="publish_form",
            fields={"closes_at": closes_at, "plan": None},
        ),
        form=PublishForm(),
    )


@bp.get("/surveys/<int:survey_id>/qr.svg")
@require("research.view")
def survey_qr(survey_id: int):
    """The QR code of the public link, as an SVG file to download and print."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    if not survey.token or survey.answer_limit == "invitation":
        abort(404)
    response = Response(qr_svg(_public_url(survey), inline=False), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = f'attachment; filename="survey-qr-{survey.id}.svg"'
    return response


@bp.post("/surveys/<int:survey_id>/close")
@require("research.edit")
def survey_close(survey_id: int):
    """Stop taking answers."""
    return _act(survey_id, svc.close, _("Questionnaire closed: the link no longer takes answers."))


@bp.post("/surveys/<int:survey_id>/reopen")
@require("research.edit")
def survey_reopen(survey_id: int):
    """Take answers again, with a new closing date or cap."""
    return _publishing(survey_id, svc.reopen, _("Questionnaire reopened."), None)


@bp.post("/surveys/<int:survey_id>/copy")
@require("research.edit")
def survey_copy(survey_id: int):
    """Run the questionnaire again: a new period of the same series (a draft copy)."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    return record_action(
        survey,
        lambda survey, form: svc.copy_as_period(current_user, survey, form.period.data),
        message=lambda copy: _("New period %(p)s created as a draft.", p=copy.period),
        then=lambda copy: url_for("research.survey_detail", survey_id=copy.id),
        on_error=again(
            _detail,
            Survey,
            survey_id,
            form_as="period_form",
            fields={None: "period", "period": "period"},
        ),
        form=PeriodForm(),
    )


@bp.get("/surveys/<int:survey_id>/periods")
@require("research.view")
def survey_periods(survey_id: int):
    """The periods of a satisfaction series side by side: means, CSAT and NPS."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    series = svc.series_of(survey)
    rows = analysis.compare_periods(series)
    return render(
        "research/periods.html",
        survey=survey,
        series=series,
        rows=rows,
        chart=analysis.period_chart(series, rows),
        min_sample=analysis.MIN_SAMPLE,
    )


# --- invitations ----------------------------------------------------------------------------------


@bp.get("/surveys/<int:survey_id>/invitations")
@require("research.edit")
def survey_invitations(survey_id: int):
    """Invite chosen customers: each gets a one-time link."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    q = request.args.get("q", "")
    customers = svc.search_customers(current_user, q)
    invited = {i.customer_id for i in svc.invitations_of(survey)}
    context = {
        "survey": survey,
        "q": q,
        "customers": customers,
        "invited": invited,
        "invitations": svc.invitations_of(survey),
        "confirm": ConfirmForm(),
        "link_for": lambda token: url_for("research.answer_invite", token=token, _external=True),
    }
    return render("research/invitations.html", block="customer_results", **context)


@bp.post("/surveys/<int:survey_id>/invitations")
@require("research.edit")
def survey_invite(survey_id: int):
    """Make one-time links for the customers ticked."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    ids = [int(v) for v in request.form.getlist("customer") if v.isdigit()]
    back = url_for("research.survey_invitations", survey_id=survey.id)

    def refused(error, form):
        flash(error.message, "error")
        return redirect_to(back)

    return record_action(
        survey,
        lambda survey, form: svc.invite(current_user, survey, ids),
        message=lambda made: _("%(n)s invitation links made.", n=len(made)),
        then=back,
        on_error=refused,
    )


# --- answers taken by phone ------------------------------------------------------------------------


@bp.route("/surveys/<int:survey_id>/responses/new", methods=["GET", "POST"])
@require("research.edit")
def response_new(survey_id: int):
    """Enter the answers a respondent gave by phone (marked as such)."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    problems, values, error = {}, {}, ""
    status = 200
    form = PhoneAnswersForm()
    if request.method == "POST":
        if not form.validate_on_submit() and form.csrf_token.errors:
            abort(400)
        try:
            if form.customer_id.errors:  # only a customer this user may see, or none
                raise svc.SurveyError(
                    _("Please correct the fields marked below. Nothing has been saved.")
                )
            svc.submit_response(
                survey,
                request.form,
                channel="phone",
                customer_id=form.customer_id.data,
                entered_by=current_user,
                respondent=request.form.get("respondent", ""),
            )
        except svc.AnswerProblems as failure:
            db.session.rollback()
            problems, error, status = failure.problems, failure.message, 422
        except svc.SurveyError as failure:
            db.session.rollback()
            error, status = failure.message, 422
        else:
            db.session.commit()
            flash(_("Answers saved (taken by phone)."), "success")
            return redirect_to(url_for("research.response_new", survey_id=survey.id))
        values = {key: request.form.getlist(key) for key in request.form}
    return render(
        "research/response_form.html",
        status=status,
        survey=survey,
        questions=svc.numbered(survey.questions),
        problems=problems,
        values=values,
        error=error,
        form=form,
    )


@bp.get("/surveys/<int:survey_id>/responses.xlsx")
@require("research.view")
def survey_responses_xlsx(survey_id: int):
    """Every response (filtered) as rows, one column per question."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    filters = analysis.Filters.from_args(request.args)
    header, rows = analysis.raw_rows(survey, filters)
    name = _("Responses")
    return xlsx_response(f"{survey.title[:40]}-{name}.xlsx", [(name, header, rows)])


# --- analysis -----------------------------------------------------------------------------------


def _crosstab(survey: Survey, filters):
    try:
        q1 = int(request.args.get("q1", ""))
        q2 = int(request.args.get("q2", ""))
    except ValueError:
        return None, ""
    ids = {q.id for q in analysis.crosstab_questions(survey)}
    if q1 not in ids or q2 not in ids:
        return None, ""
    if q1 == q2:
        return None, _("Choose two different questions.")
    return analysis.crosstab_block(q1, q2, filters), ""


def _regions() -> list[str]:
    return list(
        db.session.scalars(
            select(Customer.province)
            .where(Customer.province != "")
            .distinct()
            .order_by(Customer.province)
            .limit(100)
        )
    )


@bp.get("/surveys/<int:survey_id>/analysis")
@require("research.view")
def survey_analysis(survey_id: int):
    """Per-question statistics, charts, NPS and CSAT, and a cross-tab with chi-square."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    filters = analysis.Filters.from_args(request.args)
    result = analysis.survey_blocks(survey, filters)
    crosstab, crosstab_error = _crosstab(survey, filters)
    args = {
        **filters.args(),
        **{k: v for k, v in (("q1", request.args.get("q1")), ("q2", request.args.get("q2"))) if v},
    }
    return render(
        "research/analysis.html",
        block="analysis_body"
        if request.headers.get("HX-Target") == "analysis_body"
        else ("crosstab" if request.headers.get("HX-Target") == "crosstab" else None),
        survey=survey,
        filters=filters,
        result=result,
        crosstab=crosstab,
        crosstab_error=crosstab_error,
        crosstab_questions=analysis.crosstab_questions(survey),
        q1=request.args.get("q1", ""),
        q2=request.args.get("q2", ""),
        channels=RESPONSE_CHANNELS,
        grades=CUSTOMER_GRADES,
        regions=_regions(),
        min_sample=analysis.MIN_SAMPLE,
        push_url=url_for("research.survey_analysis", survey_id=survey.id, **args),
    )


@bp.get("/surveys/<int:survey_id>/analysis.xlsx")
@require("research.view")
def survey_analysis_xlsx(survey_id: int):
    """The analysis (every question's figures) and the raw responses as one workbook."""
    survey = get_visible_or_404(Survey, survey_id, current_user)
    filters = analysis.Filters.from_args(request.args)
    result = analysis.survey_blocks(survey, filters)
    header, rows = analysis.analysis_rows(result)
    raw_header, raw = analysis.raw_rows(survey, filters)
    sheets = [(_("Analysis"), header, rows), (_("Responses"), raw_header, raw)]
    crosstab, _err = _crosstab(survey, filters)
    if crosstab is not None:
        ct_header = (
            [crosstab["q1"]["text"][:60] + " \\ " + crosstab["q2"]["text"][:60]]
            + crosstab["col_labels"]
            + [_("Total")]
        )
        ct_rows = [
            [label] + row + [total]
            for label, row, total in zip(
                crosstab["row_labels"], crosstab["table"], crosstab["row_totals"], strict=True
            )
        ]
        ct_rows.append([_("Total")] + crosstab["col_totals"] + [crosstab["total"]])
        if crosstab["test"]:
            t = crosstab["test"]
            ct_rows.append([])
            ct_rows.append(["χ²", t["chi2"], _("Degrees of freedom"), t["dof"], "p", t["p"]])
        sheets.append((_("Cross-tab"), ct_header, ct_rows))
    name = _("Analysis")
    return xlsx_response(f"{survey.title[:40]}-{name}.xlsx", sheets)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P2", nav.NavEntry("research.surveys", nav._l("Questionnaires"), ("research.view",), "doc")
    )
