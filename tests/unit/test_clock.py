"""The clock: one reader (core.clock), the company's zone, the suite's frozen day, and the
demo built as of a given day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
CLOCK_READ = re.compile(
    r"\b(?:date|datetime)\s*\.\s*(?:today|now|utcnow)\s*\(|\btime\s*\.\s*localtime\s*\("
)
# core/clock.py is the reader; a test that needs the real day (the brand demo built on
# it) goes through time-machine's escape hatch, on the same line.
ALLOWED = {"mktapp/core/clock.py", "tests/unit/test_clock.py"}


def test_nothing_but_core_clock_reads_the_clock():
    found = []
    for folder in ("mktapp", "tests", "bench", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CLOCK_READ.search(line) and "escape_hatch" not in line:
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "read the clock through mktapp.core.clock:\n" + "\n".join(found)


def test_the_suite_runs_on_its_frozen_day(frozen_clock):
    assert clock.today() == frozen_clock
    assert abs(clock.now() - clock.local_now()) < timedelta(seconds=1)
    assert clock.local_now().utcoffset() == timedelta(hours=8)  # Asia/Shanghai


def test_today_is_the_company_date_not_the_utc_date(app):
    import time_machine

    # 20:00 UTC on 31 December is already New Year's Day in Shanghai.
    with time_machine.travel(datetime(2026, 12, 31, 20, 0, tzinfo=UTC), tick=False):
        assert clock.now().date() == date(2026, 12, 31)
        with app.app_context():
            assert clock.today() == date(2027, 1, 1)
            app.config["TIMEZONE"] = "UTC"
            try:
                assert clock.today() == date(2026, 12, 31)
            finally:
                app.config["TIMEZONE"] = "Asia/Shanghai"
        assert clock.local_date(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == date(2027, 1, 1)


def test_anchored_moves_today_for_the_block_only():
    real = clock.today()
    with clock.anchored(date(2025, 3, 1)) as day:
        assert day == clock.today() == date(2025, 3, 1)
        with clock.anchored(date(2028, 2, 29)):
            assert clock.today() == date(2028, 2, 29)
        assert clock.today() == date(2025, 3, 1)
    assert clock.today() == real
    with clock.anchored(None):
        assert clock.today() == real


def test_seed_demo_on_an_empty_database_builds_the_company_as_of_the_day_it_is_given(
    tmp_path, scratch_database
):
    from flask_migrate import upgrade

    from mktapp import create_app
    from mktapp.config import TestConfig
    from mktapp.models import Activity, AuditLog, BrandStrategy, Budget, TrainingRecord

    fresh = create_app(TestConfig(str(tmp_path), database_url=scratch_database("asof", "sqlite")))
    fresh.config["DEMO_BRAND"] = True  # the brand chapter's demo too
    with fresh.app_context():
        upgrade()
    result = fresh.test_cli_runner().invoke(args=["seed-demo", "--today", "2026-06-15"])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert db.session.scalar(select(func.count(Activity.id))) == 12
        assert db.session.scalar(select(func.count(BrandStrategy.id))) == 2
        assert db.session.scalar(select(func.max(Activity.start_on))) <= date(2026, 7, 16)
        budgets = {b.year: b for b in db.session.scalars(select(Budget))}
        assert sorted(budgets) == [2025, 2026]  # no next year's budget in June
        assert budgets[2025].closed and not budgets[2026].closed
        latest = db.session.scalar(select(func.max(TrainingRecord.taken_on)))
        assert date(2025, 6, 15) < latest < date(2026, 6, 15)
        # Everything the services stamped happened by that day, not on the real one.
        last_change = db.session.scalar(select(func.max(AuditLog.at)))
        assert last_change < datetime(2026, 6, 16, tzinfo=UTC)
        db.session.remove()
        db.engine.dispose()
