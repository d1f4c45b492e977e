"""Statistics a manager believes (issue 11, item 7): intervals stay on the scale they
describe, shares get Wilson intervals, the NPS gets its own interval on −100…100, a
number that cannot be negative gets no negative lower end, and small samples get
"too few" instead of a number. Known values are worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest

from mktapp.research import analysis


def _counts(values) -> dict[float, int]:
    out: dict[float, int] = {}
    for v in values:
        out[float(v)] = out.get(float(v), 0) + 1
    return out


# --- Wilson interval of a share -------------------------------------------------------------


def test_wilson_interval_of_half_of_ten_matches_the_textbook_value():
    low, high = analysis.wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_interval_of_none_of_ten_starts_at_zero_and_stays_above_it():
    low, high = analysis.wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)
    low, high = analysis.wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.7225, abs=1e-4)


def test_a_share_of_fewer_than_ten_answers_has_no_interval():
    assert analysis.MIN_SAMPLE == 10
    assert analysis.wilson_interval(2, 9) is None


def test_csat_interval_is_the_wilson_interval_in_percent():
    counts = {5.0: 6, 4.0: 2, 2.0: 2}  # 8 of 10 rate 4 or 5
    low, high = analysis.csat_interval(counts)
    w_low, w_high = analysis.wilson_interval(8, 10)
    assert (low, high) == pytest.approx((100 * w_low, 100 * w_high))
    assert 0 <= low < analysis.csat_of(counts) < high <= 100


# --- NPS ------------------------------------------------------------------------------------


def test_nps_interval_from_promoter_and_detractor_shares():
    # 50 promoters, 30 passives, 20 detractors of 100: NPS 30;
    # var = (0.5 + 0.2 - 0.3²) / 100 = 0.0061, half width = 1.96 × 0.0781 = 0.1531.
    low, high = analysis.nps_interval(50, 20, 100)
    assert low == pytest.approx(30 - 100 * 1.959964 * math.sqrt(0.0061), abs=1e-3)
    assert high == pytest.approx(30 + 100 * 1.959964 * math.sqrt(0.0061), abs=1e-3)
    assert (round(low, 2), round(high, 2)) == (14.69, 45.31)


def test_nps_interval_is_clamped_to_the_score_range():
    # 9 promoters and a passive of 10: NPS 90, the upper end would be 108.6.
    low, high = analysis.nps_interval(9, 0, 10)
    assert high == 100.0
    assert low == pytest.approx(100 * (0.9 - 1.959964 * math.sqrt(0.009)), abs=1e-3)
    assert analysis.nps_interval(0, 10, 10) == (-100.0, -100.0)


def test_nps_of_gives_its_interval_and_says_when_there_are_too_few_answers():
    many = analysis.nps_of({10.0: 5, 9.0: 3, 8.0: 2, 3.0: 2})
    assert many["score"] == pytest.approx(100 * (8 - 2) / 12)
    assert many["ci"] == pytest.approx(analysis.nps_interval(8, 2, 12))
    assert not many["too_few"]
    few = analysis.nps_of({10.0: 2, 5.0: 1})
    assert few["ci"] is None and few["too_few"]


# --- means on a bounded scale ----------------------------------------------------------------


def test_rating_interval_is_a_bootstrap_inside_one_to_five():
    # Nine 5s and a 1: a t interval would reach 5.5. Resampling, the number of 1s drawn is
    # Binomial(10, 0.1): none in 35 % of draws (mean 5.0), at most 3 in 98.7 % (mean 3.8).
    counts = {5.0: 9, 1.0: 1}
    t_high = analysis.describe_counts(counts)["ci"][1]
    assert t_high > 5
    stats = analysis.describe_counts(counts, analysis.SCALES["rating"])
    assert stats["ci_method"] == "bootstrap"
    assert stats["ci"] == pytest.approx((3.8, 5.0))
    assert stats["mean"] == pytest.approx(4.6)


def test_bootstrap_interval_is_the_same_every_time():
    counts = _counts([1, 2, 3, 3, 4, 4, 4, 5, 5, 2, 3, 5])
    first = analysis.describe_counts(counts, analysis.SCALES["rating"])["ci"]
    again = analysis.describe_counts(dict(reversed(list(counts.items()))), (1.0, 5.0))["ci"]
    assert first == again
    low, high = first
    assert 1 <= low < sum(v * c for v, c in counts.items()) / 12 < high <= 5


def test_nps_question_mean_stays_within_nought_to_ten():
    stats = analysis.describe_counts({10.0: 8, 9.0: 1, 0.0: 1}, analysis.SCALES["nps"])
    low, high = stats["ci"]
    assert 0 <= low and high <= 10


def test_fewer_than_ten_ratings_are_too_few_for_an_interval():
    # The example: a 1–5 rating showed "1.45 – 5.55" from a handful of answers.
    stats = analysis.describe_counts({5.0: 2, 2.0: 1, 4.0: 1}, analysis.SCALES["rating"])
    assert stats["ci"] is None and stats["too_few"]
    assert stats["mean"] == pytest.approx(4.0) and stats["sd"] is not None


def test_interval_with_exactly_ten_answers_is_given():
    stats = analysis.describe_counts({4.0: 5, 5.0: 5}, analysis.SCALES["rating"])
    assert not stats["too_few"]
    low, high = stats["ci"]
    assert 4.0 <= low <= 4.5 <= high <= 5.0


# --- numbers ---------------------------------------------------------------------------------


def test_a_count_that_cannot_be_negative_has_no_negative_lower_end():
    # Ten answers: nine 0s and a 30 (mean 3, sd 9.49): the t interval starts at −3.79.
    values = [0] * 9 + [30]
    total, squares = sum(values), sum(v * v for v in values)
    stats = analysis._summary(10, total, squares, 0.0, floor=0.0)
    assert stats["ci"][0] == 0.0 and stats["ci_clamped"]
    assert stats["ci"][1] == pytest.approx(3 + 2.262157 * 9.486833 / math.sqrt(10), abs=1e-3)
    free = analysis._summary(10, total, squares, 0.0)
    assert free["ci"][0] == pytest.approx(-3.786, abs=1e-3) and not free["ci_clamped"]


def test_a_number_question_with_three_answers_is_too_few():
    # The example: n = 3 gave "-3.53 – 18.87".
    stats = analysis._summary(3, 3 + 5 + 14, 9 + 25 + 196, 5.0, floor=0.0)
    assert stats["ci"] is None and stats["too_few"]


def test_too_few_text_names_the_threshold(app_ctx):
    assert "10" in analysis.too_few_text()
