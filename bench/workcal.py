#!/usr/bin/env python3
"""Benchmark: adding working time on the company calendar (issue 14, "Speed": adding
working time in <= 50 µs per call over a year with holidays).

1. The pure calculator (core.workcal.Calendar): the default week (09:00-12:00,
   13:30-18:00, Monday to Friday) with the statutory holidays and 调休 make-up days of
   --year and the next (the `holidays` package), --calls random starts over --year
   (to the second, at any hour), each adding 60..2400 working minutes (1 to 40 working
   hours, the SLA spans); then counting the working seconds between each start and a
   moment up to 20 days later. Prints µs per call (best of --repeat rounds), with the
   first call (which builds the calendar's tables) timed apart.
2. The same through add_working_minutes() in an app context on a SQLite database made
   by the migrations in a temporary folder, with the year seeded (the calendar read once
   and kept on flask.g: what a page or a scan pays per deadline). --no-app skips it.

Run from the repository root:  .venv/bin/python bench/workcal.py [--calls 20000] [--year 2026]
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mktapp.core import workcal  # noqa: E402

TARGET_US = 50.0


def _samples(year: int, calls: int, zone: ZoneInfo, seed: int = 14):
    rng = random.Random(seed)
    first = datetime(year, 1, 1, tzinfo=zone)
    seconds = 365 * 86400
    starts = [first + timedelta(seconds=rng.randrange(seconds)) for _ in range(calls)]
    spans = [rng.randint(60, 2400) for _ in range(calls)]
    ends = [s + timedelta(seconds=rng.randrange(20 * 86400)) for s in starts]
    return starts, spans, ends


def _per_call(run, n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best / n * 1e6


def bench_pure(year: int, calls: int, repeat: int) -> float:
    zone = ZoneInfo("Asia/Shanghai")
    days = workcal.statutory_days(year) + workcal.statutory_days(year + 1)
    off = [d.day for d in days if d.kind == "off"]
    work = [d.day for d in days if d.kind == "work"]
    starts, spans, ends = _samples(year, calls, zone)

    cal = workcal.Calendar(zone, workcal.DEFAULT_WEEK, off, work)
    began = time.perf_counter()
    cal.add_minutes(starts[0], spans[0])
    first = (time.perf_counter() - began) * 1e3
    add = cal.add_minutes
    between = cal.seconds_between
    pairs = list(zip(starts, spans, strict=True))
    ranges = list(zip(starts, ends, strict=True))

    def adding():
        for s, m in pairs:
            add(s, m)

    def counting():
        for a, b in ranges:
            between(a, b)

    add_us = _per_call(adding, calls, repeat)
    between_us = _per_call(counting, calls, repeat)
    print(f"calculator: {len(off)} days off and {len(work)} make-up days over {year}-{year + 1}")
    print(f"  first call (builds the tables): {first:.1f} ms")
    print(f"  add_minutes:     {add_us:6.2f} µs per call ({calls} calls, 60..2400 minutes)")
    print(f"  seconds_between: {between_us:6.2f} µs per call (spans up to 20 days)")
    return add_us


def bench_app(year: int, calls: int, repeat: int) -> float:
    logging.disable(logging.WARNING)
    from flask_migrate import upgrade

    from mktapp import create_app
    from mktapp.config import TestConfig
    from mktapp.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="mktapp-bench-workcal-"))
    try:
        app = create_app(TestConfig(str(folder), f"sqlite:///{folder / 'bench.db'}"))
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            workcal.seed_year(year)
            workcal.seed_year(year + 1)
            db.session.commit()
        starts, spans, _ = _samples(
            year, calls, ZoneInfo(app.config.get("TIMEZONE") or "Asia/Shanghai")
        )
        pairs = list(zip(starts, spans, strict=True))
        with app.test_request_context():
            workcal.add_working_minutes(starts[0], spans[0])  # the calendar read and built

            def adding():
                for s, m in pairs:
                    workcal.add_working_minutes(s, m)

            us = _per_call(adding, calls, repeat)
            db.session.remove()
        with app.app_context():
            db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"  add_working_minutes (app, SQLite, calendar on flask.g): {us:6.2f} µs per call")
    return us


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-app", action="store_true", help="Only the pure calculator.")
    args = parser.parse_args()
    worst = bench_pure(args.year, args.calls, args.repeat)
    if not args.no_app:
        worst = max(worst, bench_app(args.year, args.calls, args.repeat))
    verdict = "ok" if worst <= TARGET_US else "SLOWER THAN THE TARGET"
    print(f"target <= {TARGET_US:.0f} µs per call: {verdict}")
    return 0 if worst <= TARGET_US else 1


if __name__ == "__main__":
    sys.exit(main())
