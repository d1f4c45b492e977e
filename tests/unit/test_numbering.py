"""Document numbers: per series and year, in order, never repeated."""

from mktapp.core.numbering import next_number


def test_numbers_run_per_series_and_year(app_ctx, app):
    from mktapp.extensions import db

    assert next_number("BX", 2026) == "BX-2026-0001"
    assert next_number("BX", 2026) == "BX-2026-0002"
    assert next_number("BX", 2027) == "BX-2027-0001"
    assert next_number("HT", 2026) == "HT-2026-0001"
    db.session.rollback()
