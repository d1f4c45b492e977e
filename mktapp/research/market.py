"""Competitors and industry news (P2.3): 竞争对手 with their products, pricing, share,
channels, promotions, strengths and weaknesses (compared side by side, changes kept in
the audit history), and the feed of 行业动态 (policy, technology, hot spots, pain points).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from mktapp.core import vocab
from mktapp.core.audit_display import describe
from mktapp.core.charts import Series, line_chart
from mktapp.core.errors import DomainError
from mktapp.core.lists import Column, Filter, ListPage, ListSpec, contains, one_of
from mktapp.core.permissions import visible
from mktapp.extensions import db
from mktapp.models import (
    NEWS_CATEGORIES,
    NEWS_IMPACTS,
    Competitor,
    IndustryNews,
    MarketFigure,
    utcnow,
)

CATEGORIES = NEWS_CATEGORIES
IMPACTS = NEWS_IMPACTS
COMPETITOR_FIELDS = (
    "products",
    "pricing",
    "channels",
    "promotions",
    "strengths",
    "weaknesses",
)
COMPETITOR_LABELS = {
    "name": _l("Name"),
    "products": _l("Products offered"),
    "pricing": _l("Pricing strategy"),
    "market_share": _l("Market share (estimate)"),
    "channels": _l("Sales channels"),
    "promotions": _l("Promotions"),
    "strengths": _l("Strengths"),
    "weaknesses": _l("Weaknesses"),
}
MAX_COMPARE = 6


class MarketError(DomainError):
    """Something asked that cannot be done; str() is the message for the user."""


# --- competitors ------------------------------------------------------------------------------


@dataclass
class CompetitorInput:
    name: str
    market_share: Decimal | None
    texts: dict[str, str]


def save_competitor(competitor: Competitor | None, data: CompetitorInput) -> Competitor:
    name = data.name.strip()
    clash = db.session.scalar(
        select(Competitor.id).where(
            func.lower(Competitor.name) == name.lower(),
            Competitor.id != (competitor.id if competitor and competitor.id else 0),
        )
    )
    if clash:
        raise MarketError(_("A competitor of this name is already recorded."), "name")
    if competitor is None:
        competitor = Competitor()
        db.session.add(competitor)
    competitor.name = name[:120]
    competitor.market_share = data.market_share
    for key in COMPETITOR_FIELDS:
        setattr(competitor, key, (data.texts.get(key) or "").strip())
    db.session.flush()
    return competitor


def archive_competitor(competitor: Competitor) -> None:
    competitor.archived_at = utcnow()


def competitors(user, q: str = "", archived: bool = False) -> list[Competitor]:
    stmt = visible(select(Competitor), user, Competitor).where(
        Competitor.archived_at.is_not(None) if archived else Competitor.archived_at.is_(None)
    )
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                Competitor.name.ilike(like),
                Competitor.products.ilike(like),
                Competitor.channels.ilike(like),
            )
        )
    return list(db.session.scalars(stmt.order_by(Competitor.market_share.desc(), Competitor.name)))


def chosen(user, ids: list[int]) -> list[Competitor]:
    """The competitors named by id (visible, not archived), in the order given."""
    ids = list(dict.fromkeys(ids))[:MAX_COMPARE]
    if not ids:
        return []
    found = {
        c.id: c
        for c in db.session.scalars(
            visible(select(Competitor), user, Competitor).where(
                Competitor.id.in_(ids), Competitor.archived_at.is_(None)
            )
        )
    }
    return [found[i] for i in ids if i in found]


def comparison_rows(items: list[Competitor]) -> list[tuple[str, list[str]]]:
    """(label, one value per competitor) for the side-by-side table."""
    rows = [
        (
            str(COMPETITOR_LABELS["market_share"]),
            ["—" if c.market_share is None else f"{float(c.market_share):g}%" for c in items],
        )
    ]
    for key in COMPETITOR_FIELDS:
        rows.append((str(COMPETITOR_LABELS[key]), [getattr(c, key) or "—" for c in items]))
    return rows


# --- industry news ------------------------------------------------------------------------------


@dataclass
class NewsInput:
    category: str
    title: str
    summary: str
    source_url: str
    published_on: date
    impact: str


def save_news(user, item: IndustryNews | None, data: NewsInput) -> IndustryNews:
    if data.category not in NEWS_CATEGORIES:
        raise MarketError(_("Choose a category."), "category")
    if data.impact not in NEWS_IMPACTS:
        raise MarketError(_("Choose the expected impact."), "impact")
    url = data.source_url.strip()
    if url and not url.lower().startswith(("http://", "https://")):
        raise MarketError(_("The source must be a web address (http or https)."), "source_url")
    if item is None:
        item = IndustryNews(added_by_id=user.id)
        db.session.add(item)
    item.category = data.category
    item.title = data.title.strip()[:200]
    item.summary = data.summary.strip()
    item.source_url = url[:500]
    item.published_on = data.published_on
    item.impact = data.impact
    db.session.flush()
    return item


NEWS = ListSpec(
    "industry_news",
    [
        Column("published", _l("Date"), lambda n: n.published_on),
        Column("news", _l("News"), lambda n: n.title),
        Column("category", _l("News category"), lambda n: CATEGORIES.label(n.category)),
        Column("impact", _l("Expected impact"), lambda n: IMPACTS.label(n.impact)),
        Column("links", _l("Links"), export=False, hide_label=True),
    ],
    filters=[
        Filter("category", one_of(*NEWS_CATEGORIES)),
        Filter("impact", one_of(*NEWS_IMPACTS)),
    ],
    default_sort="latest",
    default_dir="desc",
    tie=IndustryNews.id,
    # The feed's one order, under a key of no column's: the table has no sort headers.
    sorts={"latest": IndustryNews.published_on},
)
NewsQuery = NEWS.Query


def news_feed(user, query, page_size: int) -> ListPage:
    """One page of the news this user may see, the latest first."""
    stmt = visible(select(IndustryNews), user, IndustryNews)
    if query.q:
        stmt = stmt.where(contains(query.q, IndustryNews.title, IndustryNews.summary))
    if query.category:
        stmt = stmt.where(IndustryNews.category == query.category)
    if query.impact:
        stmt = stmt.where(IndustryNews.impact == query.impact)
    return NEWS.page(stmt, query, page_size)


# --- market demand --------------------------------------------------------------------------------

SEGMENT_COLORS = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490")


@dataclass
class FigureInput:
    segment: str
    year: int
    size: float
    growth: float | None
    source: str


def save_figure(figure: MarketFigure | None, data: FigureInput) -> MarketFigure:
    segment = data.segment.strip()[:80]
    clash = db.session.scalar(
        select(MarketFigure.id).where(
            MarketFigure.segment == segment,
            MarketFigure.year == data.year,
            MarketFigure.id != (figure.id if figure and figure.id else 0),
        )
    )
    if clash:
        raise MarketError(_("This segment already has a figure for that year."), "year")
    if figure is None:
        figure = MarketFigure()
        db.session.add(figure)
    figure.segment = segment
    figure.year = data.year
    figure.size = data.size
    figure.growth = data.growth
    figure.source = data.source.strip()[:300]
    db.session.flush()
    return figure


def figures(user) -> list[MarketFigure]:
    return list(
        db.session.scalars(
            visible(select(MarketFigure), user, MarketFigure).order_by(
                MarketFigure.segment, MarketFigure.year
            )
        )
    )


def demand_chart(items: list[MarketFigure]):
    """Market size by segment over the years, as an SVG line chart (None without data)."""

    if not items:
        return None
    years = sorted({f.year for f in items})
    segments = list(dict.fromkeys(f.segment for f in items))
    by_key = {(f.segment, f.year): f.size for f in items}
    series = [
        Series(seg, [by_key.get((seg, y)) for y in years], SEGMENT_COLORS[i % len(SEGMENT_COLORS)])
        for i, seg in enumerate(segments)
    ]
    return line_chart(
        [str(y) for y in years],
        series,
        title=_("Market size by segment"),
        desc=_("Estimated market size of each segment per year, in 10,000 yuan."),
        fmt=lambda v: f"{v:,.0f}",
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, CATEGORIES, IMPACTS)
    describe(Competitor, title=_l("Competitor"), fields=COMPETITOR_LABELS)
    describe(
        IndustryNews,
        title=_l("Industry news"),
        fields={
            "category": _l("News category"),
            "title": _l("Title"),
            "summary": _l("Summary"),
            "source_url": _l("Source"),
            "published_on": _l("Date"),
            "impact": _l("Expected impact"),
        },
        values={"category": NEWS_CATEGORIES, "impact": NEWS_IMPACTS},
    )
    describe(
        MarketFigure,
        title=_l("Market figure"),
        fields={
            "segment": _l("Segment"),
            "year": _l("Year"),
            "size": _l("Market size (10,000 yuan)"),
            "growth": _l("Growth (%)"),
            "source": _l("Source"),
        },
    )
