"""Competitor and industry-news views (P2.3): the competitor list, page, form and the
side-by-side comparison; the filterable industry news feed and its form."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import clock, nav
from mktapp.core.actions import edit_page, record_action
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import redirect_to, render
from mktapp.core.lists import list_page
from mktapp.core.permissions import can, get_visible_or_404, require
from mktapp.extensions import db
from mktapp.models import NEWS_CATEGORIES, NEWS_IMPACTS, Competitor, IndustryNews, MarketFigure
from mktapp.research import bp
from mktapp.research import market as svc
from mktapp.research.forms import CompetitorForm, FigureForm, NewsForm

# --- competitors ------------------------------------------------------------------------------


@bp.get("/competitors/")
@require("research.view")
def competitors():
    """Competitors by estimated market share; tick several to compare them side by side."""
    q = (request.args.get("q") or "").strip()[:100]
    archived = request.args.get("archived") == "1"
    items = svc.competitors(current_user, q, archived)
    return render(
        "research/competitors.html",
        block="competitor_rows",
        items=items,
        q=q,
        archived=archived,
        push_url=url_for("research.competitors", q=q or None),
    )


@bp.get("/competitors/compare")
@require("research.view")
def competitor_compare():
    """The chosen competitors side by side."""
    ids = [int(x) for x in request.args.getlist("ids") if x.isdigit()]
    items = svc.chosen(current_user, ids)
    return render(
        "research/competitor_compare.html",
        items=items,
        rows=svc.comparison_rows(items),
        too_few=len(items) < 2,
    )


def _competitor_input(form: CompetitorForm) -> svc.CompetitorInput:
    return svc.CompetitorInput(
        name=form.name.data or "",
        market_share=form.market_share.data,
        texts={key: getattr(form, key).data or "" for key in svc.COMPETITOR_FIELDS},
    )


def _competitor_page(form: CompetitorForm, competitor: Competitor | None):
    """The competitor's form (`competitor` None: a new one), for GET and POST."""
    return edit_page(
        "research/competitor_form.html",
        "competitor_form",
        form,
        competitor,
        lambda competitor, form: svc.save_competitor(competitor, _competitor_input(form)),
        message=lambda competitor: _("Competitor %(name)s saved.", name=competitor.name),
        then=lambda competitor: url_for("research.competitor", competitor_id=competitor.id),
        competitor=competitor,
        fields=svc.COMPETITOR_FIELDS,
    )


@bp.route("/competitors/new", methods=["GET", "POST"])
@require("research.edit")
def competitor_new():
    """Record a competitor."""
    return _competitor_page(CompetitorForm(), None)


@bp.route("/competitors/<int:competitor_id>/edit", methods=["GET", "POST"])
@require("research.edit")
def competitor_edit(competitor_id: int):
    """Update what is known about a competitor (the history keeps every change)."""
    competitor = get_visible_or_404(Competitor, competitor_id, current_user)
    form = CompetitorForm(obj=competitor) if request.method == "GET" else CompetitorForm()
    return _competitor_page(form, competitor)


@bp.get("/competitors/<int:competitor_id>")
@require("research.view")
def competitor(competitor_id: int):
    """A competitor: products, pricing, share, channels, promotions, strengths, weaknesses."""
    item = get_visible_or_404(Competitor, competitor_id, current_user)
    return render(
        "research/competitor_detail.html",
        competitor=item,
        labels=svc.COMPETITOR_LABELS,
        fields=svc.COMPETITOR_FIELDS,
        confirm=ConfirmForm(),
    )


@bp.post("/competitors/<int:competitor_id>/archive")
@require("research.edit")
def competitor_archive(competitor_id: int):
    """Archive a competitor that left the market (kept, with its history)."""
    item = get_visible_or_404(Competitor, competitor_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    svc.archive_competitor(item)
    db.session.commit()
    flash(_("Competitor %(name)s archived.", name=item.name), "success")
    return redirect_to(url_for("research.competitors"))


# --- industry news ------------------------------------------------------------------------------


@bp.get("/news/")
@require("research.view")
def news():
    """The industry news feed: filter by category and expected impact, search."""
    query = svc.NewsQuery.from_args(request.args)
    return list_page(
        "research/news.html",
        "news_rows",
        query,
        svc.news_feed,
        query.url(url_for("research.news")),
        categories=NEWS_CATEGORIES,
        impacts=NEWS_IMPACTS,
    )


def _news_input(form: NewsForm) -> svc.NewsInput:
    return svc.NewsInput(
        category=form.category.data,
        title=form.title.data or "",
        summary=form.summary.data or "",
        source_url=form.source_url.data or "",
        published_on=form.published_on.data,
        impact=form.impact.data,
    )


def _news_page(form: NewsForm, item: IndustryNews | None):
    """The news item's form (`item` None: a new one), for GET and POST."""
    return edit_page(
        "research/news_form.html",
        "news_form",
        form,
        item,
        lambda item, form: svc.save_news(current_user, item, _news_input(form)),
        message=_("Industry news saved."),
        then=url_for("research.news"),
        item=item,
    )


@bp.route("/news/new", methods=["GET", "POST"])
@require("research.edit")
def news_new():
    """Add an item to the industry news feed."""
    form = NewsForm()
    if request.method == "GET":
        form.published_on.data = clock.today()
        form.impact.data = "medium"
    return _news_page(form, None)


@bp.route("/news/<int:news_id>/edit", methods=["GET", "POST"])
@require("research.edit")
def news_edit(news_id: int):
    """Correct an industry news item."""
    item = get_visible_or_404(IndustryNews, news_id, current_user)
    return _news_page(NewsForm(obj=item) if request.method == "GET" else NewsForm(), item)


# --- market demand --------------------------------------------------------------------------------


def _demand_page(form: FigureForm, status: int = 200, editing: MarketFigure | None = None):
    items = svc.figures(current_user)
    return render(
        "research/demand.html",
        status=status,
        items=items,
        chart=svc.demand_chart(items),
        form=form,
        editing=editing,
    )


def _figure_input(form: FigureForm) -> svc.FigureInput:
    return svc.FigureInput(
        segment=form.segment.data or "",
        year=form.year.data,
        size=form.size.data,
        growth=form.growth.data,
        source=form.source.data or "",
    )


def _figure_save(form: FigureForm, figure: MarketFigure | None):
    return record_action(
        figure,
        lambda figure, form: svc.save_figure(figure, _figure_input(form)),
        message=_("Market figure saved."),
        then=url_for("research.demand"),
        on_error=lambda error, form: _demand_page(put_error(form, error), 422, figure),
        form=form,
    )


@bp.route("/demand/", methods=["GET", "POST"])
@require("research.view")
def demand():
    """Market size and growth by segment and year, with sources, charted over time."""
    if request.method == "POST":
        if not can(current_user, "research.edit"):
            abort(403)
        return _figure_save(FigureForm(), None)
    form = FigureForm(formdata=None)
    form.year.data = clock.today().year
    return _demand_page(form)


@bp.route("/demand/<int:figure_id>/edit", methods=["GET", "POST"])
@require("research.edit")
def figure_edit(figure_id: int):
    """Correct a market figure (the history keeps the old value)."""
    figure = get_visible_or_404(MarketFigure, figure_id, current_user)
    if request.method == "POST":
        return _figure_save(FigureForm(), figure)
    return _demand_page(FigureForm(obj=figure, formdata=None), editing=figure)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P2", nav.NavEntry("research.competitors", nav._l("Competitors"), ("research.view",), "dot")
    )
    nav.add("P2", nav.NavEntry("research.news", nav._l("Industry news"), ("research.view",), "dot"))
    nav.add(
        "P2", nav.NavEntry("research.demand", nav._l("Market demand"), ("research.view",), "dot")
    )
