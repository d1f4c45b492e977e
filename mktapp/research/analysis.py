"""Analysis of questionnaire answers (P2.4): per-question statistics, NPS, CSAT, cross-tabs.

Everything is aggregated in SQL: counts by value (GROUP BY on survey_answers) give the
distribution, mean, standard deviation and median of choice, rating and NPS questions;
number questions use SQL sums of x and x² and an ordered OFFSET for the median. No
response is loaded into Python to be counted.

question_block(question_id, filters) and crosstab_block(q1_id, q2_id, filters) return
plain dicts that templates/research/_block_question.html and _block_crosstab.html draw;
the analysis page and (later) the research report insert the same blocks.

Confidence intervals respect what the numbers can be (a manager should believe them):
a mean on a bounded scale (rating 1–5, NPS answers 0–10) gets a percentile bootstrap
from the counts, with a fixed seed so a page shows the same interval each time, and so
stays inside the scale; a share (CSAT, a choice's percentage) gets a Wilson interval;
the NPS itself gets the normal interval of a difference of two shares on −100…100,
clamped; a number question gets a t interval whose lower end is clamped at 0 when no
answer is negative. Fewer than MIN_SAMPLE answers give no interval ("too few").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import aliased

from mktapp.core import charts
from mktapp.extensions import db
from mktapp.models import (
    CUSTOMER_GRADES,
    RESPONSE_CHANNELS,
    Customer,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from mktapp.research.surveys import channel_label, numbered

CROSSTAB_KINDS = ("single", "multi", "rating", "nps")
PROMOTER, DETRACTOR = "#15803d", "#b42318"
PASSIVE = "#b7791f"
TEXT_SAMPLES = 12
# Below this many answers an interval says more about chance than about customers.
MIN_SAMPLE = 10
# The range a scale question's answers can take.
SCALES = {"rating": (1.0, 5.0), "nps": (0.0, 10.0)}
BOOTSTRAP_DRAWS = 4000
BOOTSTRAP_SEED = 20240607  # fixed: the same answers always give the same interval
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Filters:
    """Which responses count: submitted between two local dates, by channel, and by the
    respondent's customer grade or province (when the respondent is a known customer)."""

    date_from: date | None = None
    date_to: date | None = None
    channel: str = ""
    grade: str = ""
    region: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        def day(name):
            try:
                return date.fromisoformat((args.get(name) or "").strip())
            except ValueError:
                return None

        channel = args.get("channel") or ""
        grade = args.get("grade") or ""
        return cls(
            date_from=day("from"),
            date_to=day("to"),
            channel=channel if channel in RESPONSE_CHANNELS else "",
            grade=grade if grade in CUSTOMER_GRADES else "",
            region=(args.get("region") or "").strip()[:40],
        )

    def args(self) -> dict:
        values = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "channel": self.channel,
            "grade": self.grade,
            "region": self.region,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.args())

    def conditions(self) -> list:
        """Conditions on SurveyResponse (and Customer, joined by the caller when needed)."""
        zone = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
        out = []
        if self.date_from:
            start = datetime.combine(self.date_from, time(0), zone).astimezone(UTC)
            out.append(SurveyResponse.submitted_at >= start)
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(0), zone).astimezone(UTC)
            out.append(SurveyResponse.submitted_at < end)
        if self.channel:
            out.append(SurveyResponse.channel == self.channel)
        if self.grade:
            out.append(Customer.grade == self.grade)
        if self.region:
            out.append(Customer.province == self.region)
        return out

    @property
    def needs_customer(self) -> bool:
        return bool(self.grade or self.region)


def _scope(stmt, answer, filters: Filters):
    """Restrict a statement over `answer` rows to the responses the filters keep."""
    if not filters.active:
        return stmt
    stmt = stmt.join(SurveyResponse, SurveyResponse.id == answer.response_id)
    if filters.needs_customer:
        stmt = stmt.join(Customer, Customer.id == SurveyResponse.customer_id)
    return stmt.where(*filters.conditions())


def responses_count(survey_id: int, filters: Filters) -> int:
    stmt = select(func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == survey_id)
    if filters.needs_customer:
        stmt = stmt.join(Customer, Customer.id == SurveyResponse.customer_id)
    return db.session.scalar(stmt.where(*filters.conditions())) or 0


# --- statistics from counts -----------------------------------------------------------------


def describe_counts(counts: dict[float, int], scale: tuple[float, float] | None = None) -> dict:
    """n, mean, median, sd and the 95 % confidence interval of a distribution given as
    {value: count} (the sample standard deviation, n - 1). On a bounded `scale` (low, high)
    the interval is a percentile bootstrap, inside the scale; otherwise a t interval."""
    n = sum(counts.values())
    if n == 0:
        return {"n": 0}
    total = sum(v * c for v, c in counts.items())
    squares = sum(v * v * c for v, c in counts.items())
    out = _summary(n, total, squares, _median_from_counts(counts, n))
    if scale is not None and out["ci"] is not None:
        out.update(ci=bootstrap_mean_interval(counts), ci_method="bootstrap")
    return out


def _median_from_counts(counts: dict[float, int], n: int) -> float:
    ordered = sorted(counts.items())

    def nth(k: int) -> float:  # the k-th value (0-based) in sorted order
        seen = 0
        for value, c in ordered:
            seen += c
            if k < seen:
                return value
        return ordered[-1][0]

    if n % 2:
        return nth(n // 2)
    return (nth(n // 2 - 1) + nth(n // 2)) / 2


def _summary(
    n: int, total: float, squares: float, median: float | None, floor: float | None = None
) -> dict:
    """Mean, sd and a t interval (None below MIN_SAMPLE answers: `too_few`); the interval's
    lower end is raised to `floor` when given (values that cannot be below it)."""
    mean = total / n
    out = {
        "n": n,
        "mean": mean,
        "median": median,
        "sd": None,
        "ci": None,
        "ci_method": "",
        "ci_clamped": False,
        "too_few": n < MIN_SAMPLE,
    }
    if n > 1:
        variance = max((squares - n * mean * mean) / (n - 1), 0.0)
        out["sd"] = math.sqrt(variance)
    if n >= MIN_SAMPLE:
        from scipy import stats as sps  # loads with the first statistic, not with the app

        half = float(sps.t.ppf(0.975, n - 1)) * out["sd"] / math.sqrt(n)
        low, high = mean - half, mean + half
        if floor is not None and low < floor:
            low, out["ci_clamped"] = floor, True
        out.update(ci=(low, high), ci_method="t")
    return out


def bootstrap_mean_interval(counts: dict[float, int], level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of {value: count}: resample the answers
    (a multinomial draw over the values seen) BOOTSTRAP_DRAWS times with a fixed seed.
    Every resampled mean is a mean of answers, so the interval stays inside the scale."""
    import numpy as np  # with scipy's statistics, not with the app

    ordered = sorted((v, c) for v, c in counts.items() if c)
    values = np.array([v for v, _c in ordered], dtype=float)
    weights = np.array([c for _v, c in ordered], dtype=float)
    n = int(weights.sum())
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.multinomial(n, weights / n, size=BOOTSTRAP_DRAWS)
    means = draws @ values / n
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a share k/n, as fractions 0–1 (None below MIN_SAMPLE)."""
    if n < MIN_SAMPLE or n <= 0:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def nps_interval(
    promoters: int, detractors: int, n: int, z: float = Z95
) -> tuple[float, float] | None:
    """95 % interval of the NPS on −100…100: the score is the difference of two shares of
    one sample, var = (p + d − (p − d)²) / n; the ends are clamped to the scale."""
    if n < MIN_SAMPLE:
        return None
    p, d = promoters / n, detractors / n
    half = z * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    score = p - d
    return max(-100.0, 100 * (score - half)), min(100.0, 100 * (score + half))


def nps_of(counts: dict[float, int]) -> dict:
    """Net promoter score: % promoters (9–10) minus % detractors (0–6), with its interval."""
    n = sum(counts.values())
    if not n:
        return {}
    promoters = sum(c for v, c in counts.items() if v >= 9)
    detractors = sum(c for v, c in counts.items() if v <= 6)
    passives = n - promoters - detractors
    return {
        "n": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "promoters_pct": 100 * promoters / n,
        "passives_pct": 100 * passives / n,
        "detractors_pct": 100 * detractors / n,
        "score": 100 * (promoters - detractors) / n,
        "ci": nps_interval(promoters, detractors, n),
        "too_few": n < MIN_SAMPLE,
    }


def csat_of(counts: dict[float, int]) -> float | None:
    """CSAT: the share of ratings of 4 or 5, in percent."""
    n = sum(counts.values())
    return 100 * sum(c for v, c in counts.items() if v >= 4) / n if n else None


def too_few_text(minimum: int = MIN_SAMPLE) -> str:
    """What replaces an interval computed from too few answers."""
    return _("Too few answers for a confidence interval (fewer than %(n)s)", n=minimum)


def csat_interval(counts: dict[float, int]) -> tuple[float, float] | None:
    """The Wilson interval of the CSAT, in percent (None below MIN_SAMPLE ratings)."""
    n = sum(counts.values())
    ci = wilson_interval(sum(c for v, c in counts.items() if v >= 4), n)
    return (100 * ci[0], 100 * ci[1]) if ci else None


# --- per question ------------------------------------------------------------------------------


def _categories(q: SurveyQuestion) -> list[tuple[float, str]]:
    if q.kind in ("single", "multi"):
        return [(float(i), text) for i, text in enumerate(q.option_list)]
    if q.kind == "rating":
        return [(float(v), str(v)) for v in range(1, 6)]
    if q.kind == "nps":
        return [(float(v), str(v)) for v in range(11)]
    return []


def _value_counts(question_ids: list[int], filters: Filters) -> dict[int, dict[float, int]]:
    out: dict[int, dict[float, int]] = {qid: {} for qid in question_ids}
    if not question_ids:
        return out
    a = SurveyAnswer
    stmt = select(a.question_id, a.num, func.count()).where(
        a.question_id.in_(question_ids), a.num.is_not(None)
    )
    stmt = _scope(stmt, a, filters).group_by(a.question_id, a.num)
    for qid, num, count in db.session.execute(stmt):
        out[qid][float(num)] = count
    return out


def _answered(multi_ids: list[int], filters: Filters) -> dict[int, int]:
    """Respondents of multiple-choice questions (a row per option chosen: count distinct)."""
    if not multi_ids:
        return {}
    a = SurveyAnswer
    stmt = select(a.question_id, func.count(distinct(a.response_id))).where(
        a.question_id.in_(multi_ids)
    )
    stmt = _scope(stmt, a, filters).group_by(a.question_id)
    return dict(db.session.execute(stmt).all())


def _row_counts(question_ids: list[int], filters: Filters) -> dict[int, int]:
    """Answers to single-valued questions (one row per respondent), from the index."""
    if not question_ids:
        return {}
    a = SurveyAnswer
    stmt = select(a.question_id, func.count()).where(a.question_id.in_(question_ids))
    stmt = _scope(stmt, a, filters).group_by(a.question_id)
    return dict(db.session.execute(stmt).all())


def _number_summaries(question_ids: list[int], filters: Filters) -> dict[int, tuple]:
    """(n, sum, sum of squares, min, max) of each number question, in one grouped query."""
    if not question_ids:
        return {}
    a = SurveyAnswer
    stmt = select(
        a.question_id,
        func.count(a.num),
        func.sum(a.num),
        func.sum(a.num * a.num),
        func.min(a.num),
        func.max(a.num),
    ).where(a.question_id.in_(question_ids), a.num.is_not(None))
    stmt = _scope(stmt, a, filters).group_by(a.question_id)
    return {row[0]: tuple(row[1:]) for row in db.session.execute(stmt)}


def _number_median(qid: int, n: int, filters: Filters) -> float:
    a = SurveyAnswer
    middle = _scope(select(a.num).where(a.question_id == qid, a.num.is_not(None)), a, filters)
    middle = middle.order_by(a.num).offset((n - 1) // 2).limit(2 if n % 2 == 0 else 1)
    values = [float(v) for v in db.session.scalars(middle)]
    return sum(values) / len(values)


def _number_stats(qid: int, filters: Filters, summary: tuple | None = None) -> dict:
    if summary is None:
        summary = _number_summaries([qid], filters).get(qid)
    if not summary or not summary[0]:
        return {"n": 0}
    n, total, squares, low, high = summary
    # Nobody answered below zero: a count or an amount, so the interval does not go below 0.
    floor = 0.0 if float(low) >= 0 else None
    out = _summary(n, float(total), float(squares), _number_median(qid, n, filters), floor)
    out.update(min=float(low), max=float(high))
    return out


def _texts(qid: int, filters: Filters) -> list[str]:
    a = SurveyAnswer
    stmt = select(a.text).where(a.question_id == qid, a.text.is_not(None))
    stmt = _scope(stmt, a, filters).order_by(a.id.desc()).limit(TEXT_SAMPLES)
    return list(db.session.scalars(stmt))


def _fmt_count(value: float) -> str:
    """Counts on an axis: whole numbers only (a tick at 0.2 answers means nothing)."""
    return f"{value:g}" if float(value).is_integer() else ""


def _chart(q: SurveyQuestion, rows: list[dict], number: int | None) -> Any:
    if not rows or not any(r["count"] for r in rows):
        return None
    title = q.text
    desc = "; ".join(f"{r['label']}: {r['count']}" for r in rows)
    if q.kind in ("single", "multi"):
        return charts.hbar_chart(
            [r["label"] for r in rows],
            [r["count"] for r in rows],
            title=title,
            desc=desc,
            fmt=_fmt_count,
        )
    colors = None
    if q.kind == "nps":
        colors = [PROMOTER if i >= 9 else PASSIVE if i >= 7 else DETRACTOR for i in range(11)]
    return charts.bar_chart(
        [r["label"] for r in rows],
        [charts.Series(_("Answers"), [r["count"] for r in rows], charts.ACTUAL, colors=colors)],
        title=title,
        desc=desc,
        fmt=_fmt_count,
        width=560,
        height=230,
        css="chart-compact",
    )


def _build(q: SurveyQuestion, number, answered, respondents, counts, filters, summary=None) -> dict:
    block = {
        "type": "question",
        "id": q.id,
        "survey_id": q.survey_id,
        "number": number,
        "text": q.text,
        "kind": q.kind,
        "answered": answered,
        "respondents": respondents,
        "skipped": max(respondents - answered, 0),
        "rows": [],
        "stats": None,
        "nps": None,
        "csat": None,
        "csat_ci": None,
        "shares_ci": False,
        "min_sample": MIN_SAMPLE,
        "texts": [],
        "chart": None,
        "filters": filters.args(),
    }
    if q.kind in ("single", "multi", "rating", "nps"):
        base = answered or 1
        # A choice's share of those who answered, with its Wilson interval in percent.
        shares_ci = q.kind in ("single", "multi") and answered >= MIN_SAMPLE
        block["shares_ci"] = shares_ci
        block["rows"] = []
        for value, label in _categories(q):
            count = counts.get(value, 0)
            ci = wilson_interval(count, answered) if shares_ci else None
            block["rows"].append(
                {
                    "label": label,
                    "value": value,
                    "count": count,
                    "pct": 100 * count / base if answered else 0.0,
                    "ci": (100 * ci[0], 100 * ci[1]) if ci else None,
                }
            )
        if q.kind in ("rating", "nps"):
            block["stats"] = describe_counts(counts, SCALES[q.kind])
        if q.kind == "rating":
            block["csat"] = csat_of(counts)
            block["csat_ci"] = csat_interval(counts)
        if q.kind == "nps":
            block["nps"] = nps_of(counts)
        block["chart"] = _chart(q, block["rows"], number)
    elif q.kind == "number":
        block["stats"] = _number_stats(q.id, filters, summary)
    elif q.kind in ("short_text", "long_text"):
        block["texts"] = _texts(q.id, filters)
    return block


def question_block(question_id: int, filters: Filters | None = None) -> dict:
    """One question's figures, table and chart, as a dict for _block_question.html."""
    filters = filters or Filters()
    q = db.session.get(SurveyQuestion, question_id)
    if q is None or q.kind == "section":
        raise LookupError(question_id)
    number = next((n for n, x in _numbering(q.survey) if x.id == q.id), None)
    counts = _value_counts([q.id], filters)[q.id] if q.kind in CROSSTAB_KINDS else {}
    if q.kind == "multi":
        answered = _answered([q.id], filters).get(q.id, 0)
    elif q.kind in CROSSTAB_KINDS:
        answered = sum(counts.values())
    else:
        answered = _row_counts([q.id], filters).get(q.id, 0)
    return _build(q, number, answered, responses_count(q.survey_id, filters), counts, filters)


def _numbering(survey: Survey):

    return numbered(survey.questions)


def survey_blocks(survey: Survey, filters: Filters | None = None) -> dict:
    """Every question's block (a handful of grouped queries for the whole questionnaire)."""
    filters = filters or Filters()
    items = [(n, q) for n, q in _numbering(survey)]
    discrete = [q.id for _n, q in items if q.kind in CROSSTAB_KINDS]
    counts = _value_counts(discrete, filters)
    answered = {qid: sum(c.values()) for qid, c in counts.items()}
    answered.update(_answered([q.id for _n, q in items if q.kind == "multi"], filters))
    answered.update(_row_counts([q.id for _n, q in items if q.is_text], filters))
    numbers = _number_summaries([q.id for _n, q in items if q.kind == "number"], filters)
    answered.update({qid: s[0] for qid, s in numbers.items()})
    respondents = responses_count(survey.id, filters)
    blocks = []
    for number, q in items:
        if q.kind == "section":
            blocks.append({"type": "section", "text": q.text, "id": q.id})
            continue
        blocks.append(
            _build(
                q,
                number,
                answered.get(q.id, 0),
                respondents,
                counts.get(q.id, {}),
                filters,
                numbers.get(q.id),
            )
        )
    return {"respondents": respondents, "blocks": blocks}


# --- cross-tabulation ------------------------------------------------------------------------------


def crosstab_block(q1_id: int, q2_id: int, filters: Filters | None = None) -> dict:
    """Counts of answers to q1 (rows) against q2 (columns) with a chi-square test."""
    filters = filters or Filters()
    q1 = db.session.get(SurveyQuestion, q1_id)
    q2 = db.session.get(SurveyQuestion, q2_id)
    if (
        q1 is None
        or q2 is None
        or q1.id == q2.id
        or q1.survey_id != q2.survey_id
        or q1.kind not in CROSSTAB_KINDS
        or q2.kind not in CROSSTAB_KINDS
    ):
        raise LookupError((q1_id, q2_id))
    a1, a2 = aliased(SurveyAnswer), aliased(SurveyAnswer)
    stmt = (
        select(a1.num, a2.num, func.count())
        .join(a2, a2.response_id == a1.response_id)
        .where(a1.question_id == q1.id, a2.question_id == q2.id)
    )
    stmt = _scope(stmt, a1, filters).group_by(a1.num, a2.num)
    cells = {(float(x), float(y)): c for x, y, c in db.session.execute(stmt)}
    rows_cat, cols_cat = _categories(q1), _categories(q2)
    table = [[cells.get((rv, cv), 0) for cv, _cl in cols_cat] for rv, _rl in rows_cat]
    row_totals = [sum(r) for r in table]
    col_totals = [sum(table[i][j] for i in range(len(table))) for j in range(len(cols_cat))]
    total = sum(row_totals)
    block = {
        "type": "crosstab",
        "q1": {"id": q1.id, "text": q1.text},
        "q2": {"id": q2.id, "text": q2.text},
        "row_labels": [label for _v, label in rows_cat],
        "col_labels": [label for _v, label in cols_cat],
        "table": table,
        "row_pcts": [
            [100 * c / row_totals[i] if row_totals[i] else 0.0 for c in r]
            for i, r in enumerate(table)
        ],
        "row_totals": row_totals,
        "col_totals": col_totals,
        "total": total,
        "test": None,
        "note": "",
        "multi": q1.kind == "multi" or q2.kind == "multi",
        "filters": filters.args(),
    }
    keep_rows = [i for i, t in enumerate(row_totals) if t]
    keep_cols = [j for j, t in enumerate(col_totals) if t]
    if len(keep_rows) < 2 or len(keep_cols) < 2:
        block["note"] = _("Too few different answers for a chi-square test.")
        return block
    observed = [[table[i][j] for j in keep_cols] for i in keep_rows]
    from scipy import stats as sps  # loads with the first statistic, not with the app

    chi2, p, dof, expected = sps.chi2_contingency(observed, correction=False)
    small = sum(1 for row in expected for e in row if e < 5)
    cells_n = len(keep_rows) * len(keep_cols)
    k = min(len(keep_rows), len(keep_cols))
    block["test"] = {
        "chi2": float(chi2),
        "p": float(p),
        "dof": int(dof),
        "cramers_v": math.sqrt(chi2 / (total * (k - 1))) if total and k > 1 else None,
        "small_cells": small,
        "cells": cells_n,
        "min_expected": float(min(e for row in expected for e in row)),
    }
    if small > 0.2 * cells_n or block["test"]["min_expected"] < 1:
        block["note"] = _(
            "%(small)s of %(cells)s cells expect fewer than 5 answers: the chi-square test is "
            "unreliable here. Collect more answers or merge categories.",
            small=small,
            cells=cells_n,
        )
    return block


def crosstab_questions(survey: Survey) -> list[SurveyQuestion]:
    return [q for q in survey.questions if q.kind in CROSSTAB_KINDS]


# --- periods ----------------------------------------------------------------------------------------


def compare_periods(surveys: list[Survey]) -> list[dict]:
    """For each rating / NPS question shared by the periods (by key): mean, CSAT, NPS per period."""
    keyed: dict[str, dict] = {}
    order: list[str] = []
    for survey in surveys:
        scale = [q for q in survey.questions if q.kind in ("rating", "nps")]
        counts = _value_counts([q.id for q in scale], Filters())
        for q in scale:
            if q.key not in keyed:
                keyed[q.key] = {"text": q.text, "kind": q.kind, "periods": {}}
                order.append(q.key)
            c = counts.get(q.id, {})
            summary = describe_counts(c, SCALES[q.kind])
            nps = nps_of(c) if q.kind == "nps" else {}
            keyed[q.key]["periods"][survey.id] = {
                "n": summary.get("n", 0),
                "mean": summary.get("mean"),
                "ci": summary.get("ci"),
                "too_few": summary.get("too_few", False),
                "csat": csat_of(c) if q.kind == "rating" else None,
                "nps": nps.get("score"),
                "nps_ci": nps.get("ci"),
            }
    rows = []
    for key in order:
        row = keyed[key]
        values = [row["periods"].get(s.id) for s in surveys]
        row["cells"] = values
        main = [(v["nps"] if row["kind"] == "nps" else v["mean"]) if v else None for v in values]
        known = [m for m in main if m is not None]
        row["change"] = (known[-1] - known[-2]) if len(known) >= 2 else None
        rows.append(row)
    return rows


def period_chart(surveys: list[Survey], rows: list[dict]):
    """CSAT (share of 4 and 5) of each rating question, one bar per period."""
    palette = ["#a5b4d4", "#1d4ed8", "#15803d", "#b7791f", "#7c3aed"]
    ratings = [r for r in rows if r["kind"] == "rating"]
    if not ratings or len(surveys) < 2:
        return None
    labels = [r["text"] if len(r["text"]) <= 9 else r["text"][:8] + "…" for r in ratings]
    series = [
        charts.Series(
            s.period or s.title,
            [(r["cells"][i] or {}).get("csat") or 0 for r in ratings],
            palette[i % len(palette)],
        )
        for i, s in enumerate(surveys)
    ]
    return charts.bar_chart(
        labels,
        series,
        title=_("CSAT by period"),
        desc=_("Share of ratings of 4 or 5 for each question in each period."),
        fmt=lambda v: f"{v:.0f}%",
        height=280,
    )


# --- export -------------------------------------------------------------------------------------------


def raw_rows(survey: Survey, filters: Filters) -> tuple[list[str], list[list]]:
    """One row per response, one column per question (choices by their text)."""
    questions = [q for q in survey.questions if q.kind != "section"]
    header = [_("Response"), _("Submitted"), _("Channel"), _("Customer"), _("Respondent")]
    header += [q.text for q in questions]
    index = {q.id: i for i, q in enumerate(questions)}
    options = {q.id: q.option_list for q in questions}
    kinds = {q.id: q.kind for q in questions}
    stmt = (
        select(
            SurveyResponse.id,
            SurveyResponse.submitted_at,
            SurveyResponse.channel,
            Customer.name,
            SurveyResponse.respondent,
        )
        .outerjoin(Customer, Customer.id == SurveyResponse.customer_id)
        .where(SurveyResponse.survey_id == survey.id, *filters.conditions())
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
    )

    rows: dict[int, list] = {}
    for rid, at, channel, customer, respondent in db.session.execute(stmt):
        rows[rid] = [rid, at, channel_label(channel), customer or "", respondent or ""] + [
            None
        ] * len(questions)
    if rows:
        answers = select(
            SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.num, SurveyAnswer.text
        ).where(SurveyAnswer.question_id.in_(list(index)))
        answers = _scope(answers, SurveyAnswer, filters).order_by(SurveyAnswer.id)
        for rid, qid, num, text in db.session.execute(answers):
            row = rows.get(rid)
            if row is None:
                continue
            col = 5 + index[qid]
            kind = kinds[qid]
            if kind in ("single", "multi"):
                label = (
                    options[qid][int(num)]
                    if num is not None and int(num) < len(options[qid])
                    else ""
                )
                row[col] = label if row[col] is None else f"{row[col]}; {label}"
            elif kind in ("rating", "nps"):
                row[col] = int(num)
            elif kind == "number":
                row[col] = num
            else:
                row[col] = text
    return header, list(rows.values())


def analysis_rows(result: dict) -> tuple[list[str], list[list]]:
    header = [
        _("No."),
        _("Question"),
        _("Answer"),
        _("Count"),
        _("Percent"),
        _("Answered"),
        _("Mean"),
        _("Median"),
        _("Standard deviation"),
        _("95% CI low"),
        _("95% CI high"),
        _("NPS"),
        _("NPS 95% CI low"),
        _("NPS 95% CI high"),
        _("CSAT %"),
        _("CSAT 95% CI low"),
        _("CSAT 95% CI high"),
        _("Note"),
    ]
    out = []
    for b in result["blocks"]:
        if b["type"] != "question":
            continue
        s = b["stats"] or {}
        nps = b["nps"] or {}
        ci = s.get("ci") or (None, None)
        nps_ci = nps.get("ci") or (None, None)
        csat_ci = b["csat_ci"] or (None, None)
        # Statistics were asked of too few answers (texts have none to ask).
        few = 0 < b["answered"] < MIN_SAMPLE and b["kind"] not in ("short_text", "long_text")
        head = [
            b["number"],
            b["text"],
            "",
            None,
            None,
            b["answered"],
            s.get("mean"),
            s.get("median"),
            s.get("sd"),
            ci[0],
            ci[1],
            nps.get("score"),
            nps_ci[0],
            nps_ci[1],
            b["csat"],
            csat_ci[0],
            csat_ci[1],
            too_few_text() if few else "",
        ]
        out.append(head)
        for r in b["rows"]:
            out.append(["", "", r["label"], r["count"], round(r["pct"], 1)])
    return header, out
