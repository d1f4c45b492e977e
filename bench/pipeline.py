#!/usr/bin/env python3
"""Benchmark: the pipeline board with 5,000 open opportunities (issue 4, "Speed").

Reuses bench/pages.py (database, demo organisation, the statement counter) and adds:

1. --opportunities open opportunities (default 5,000) bulk-inserted across the five
   stages and the three demo sales reps, on --customers customers (default 800), each
   with its creation in the stage history; plus --closed won/lost ones (default 2,000).
2. The board GET /sales/pipeline rendered in process by the test client as --user
   (default manager, who sees every card): the median server time of --repeat renders
   (target <= 150 ms) and the SQL statements of one render.
3. The same for the list /sales/opportunities and the summary /sales/pipeline/summary,
   for comparison.

Run from the repository root:  .venv/bin/python bench/pipeline.py [--db URL] [--opportunities 5000]
Small proof run:               .venv/bin/python bench/pipeline.py --opportunities 300 --repeat 3
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pages  # noqa: E402  (bench/pages.py: the shared machinery)

STAGE_WEIGHTS = {"prospect": 30, "contact": 25, "needs": 20, "proposal": 15, "negotiation": 10}
PROBABILITY = {"prospect": 10, "contact": 20, "needs": 40, "proposal": 60, "negotiation": 80}
CITIES = ["上海", "苏州", "杭州", "南京", "宁波", "无锡", "合肥", "常州", "嘉兴", "绍兴"]
TRADES = ["精密机械", "网络科技", "教育集团", "置业", "物流", "新能源", "医疗器械", "酒店管理"]


def fill_pipeline(n_open: int, n_closed: int, n_customers: int, seed: int = 11) -> int:
    """Bulk-insert customers and opportunities (with their creation in the history)."""
    from sqlalchemy import func, select

    from mktapp import create_app
    from mktapp.core import clock
    from mktapp.extensions import db
    from mktapp.models import User, utcnow
    from mktapp.models.sales import Customer, Opportunity, OpportunityStageChange

    rng = random.Random(seed)
    app = create_app()
    with app.app_context():
        have = db.session.scalar(select(func.count(Opportunity.id))) or 0
        if have >= n_open + n_closed:
            db.session.remove()
            db.engine.dispose()
            return have
        reps = [
            uid
            for (uid,) in db.session.execute(
                select(User.id).where(User.username.in_(["sales1", "sales2", "sales3"]))
            )
        ]
        now = utcnow()
        started = time.perf_counter()
        customers = []
        for i in range(n_customers):
            city = CITIES[i % len(CITIES)]
            name = f"{city}{TRADES[i % len(TRADES)]}{i:04d}有限公司"
            customers.append(
                {
                    "name": name,
                    "name_key": name,
                    "kind": "company",
                    "industry": TRADES[i % len(TRADES)],
                    "size": "",
                    "province": "",
                    "city": city,
                    "address": "",
                    "grade": "ABC"[i % 3],
                    "status": "intent",
                    "source": "fair",
                    "source_detail": "",
                    "notes": "",
                    "owner_id": reps[i % len(reps)],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for start in range(0, len(customers), 2000):
            db.session.execute(Customer.__table__.insert(), customers[start : start + 2000])
        customer_ids = [
            (cid, owner)
            for cid, owner in db.session.execute(
                select(Customer.id, Customer.owner_id)
                .order_by(Customer.id.desc())
                .limit(n_customers)
            )
        ]
        today = clock.today()
        rows = []
        stages = list(STAGE_WEIGHTS)
        weights = list(STAGE_WEIGHTS.values())
        for i in range(n_open + n_closed):
            cid, owner = customer_ids[i % len(customer_ids)]
            if i < n_open:
                stage = rng.choices(stages, weights)[0]
                probability = PROBABILITY[stage]
                closed_at = None
            else:
                stage = "won" if i % 2 else "lost"
                probability = 100 if stage == "won" else 0
                closed_at = now - timedelta(days=rng.randint(1, 360))
            created = now - timedelta(days=rng.randint(1, 360))
            rows.append(
                {
                    "customer_id": cid,
                    "title": f"会议室改造项目 {i:05d}",
                    "stage": stage,
                    "amount": Decimal(rng.randint(5, 900) * 1000),
                    "probability": probability,
                    "expected_close": today + timedelta(days=rng.randint(-20, 200)),
                    "next_step": "安排演示",
                    "lost_reason": "预算取消" if stage == "lost" else "",
                    "stage_changed_at": created,
                    "closed_at": closed_at,
                    "owner_id": owner,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        for start in range(0, len(rows), 2000):
            db.session.execute(Opportunity.__table__.insert(), rows[start : start + 2000])
        history = [
            {"opportunity_id": oid, "from_stage": "", "to_stage": stage, "at": at, "by_id": owner}
            for oid, stage, at, owner in db.session.execute(
                select(
                    Opportunity.id,
                    Opportunity.stage,
                    Opportunity.created_at,
                    Opportunity.owner_id,
                ).where(Opportunity.title.like("会议室改造项目 %"))
            )
        ]
        for start in range(0, len(history), 5000):
            db.session.execute(
                OpportunityStageChange.__table__.insert(), history[start : start + 5000]
            )
        db.session.commit()
        print(
            f"  inserted {n_customers} customers and {len(rows)} opportunities"
            f" in {time.perf_counter() - started:.1f} s"
        )
        total = db.session.scalar(select(func.count(Opportunity.id)))
        db.session.remove()
        db.engine.dispose()
    return total


def time_page(path: str, username: str, repeat: int) -> tuple[float, int]:
    """Median server time (ms) of `repeat` renders of `path`, and its SQL statements."""

    from mktapp import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/auth/login", data={"username": username, "password": "mktapp-demo-2026"})
    first = client.get(path)  # warm caches (roles, babel, templates)
    if first.status_code != 200:
        raise SystemExit(f"{path} answers HTTP {first.status_code} to {username}")
    return pages.time_requests(app, client, path, repeat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--opportunities", type=int, default=5000, help="open ones (5000)")
    parser.add_argument("--closed", type=int, default=2000, help="won and lost ones (2000)")
    parser.add_argument("--customers", type=int, default=800, help="customers (800)")
    parser.add_argument("--users", type=int, default=200, help="users in the table (200)")
    parser.add_argument("--repeat", type=int, default=15, help="renders timed per page (15)")
    parser.add_argument("--user", default="manager", help="demo user for the pages (manager)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mktapp-bench-pipeline-", dir="/tmp"))
    db_url = args.db or f"sqlite:///{work / 'bench.db'}"
    env = {
        "MKTAPP_DATABASE_URL": db_url,
        "MKTAPP_INSTANCE_PATH": str(work / "instance"),
        "MKTAPP_SECRET_KEY": secrets.token_hex(32),
        "MKTAPP_PASSWORD_HASH_METHOD": pages.CHEAP_HASH,
    }
    for key in [k for k in os.environ if k.startswith("MKTAPP_")]:
        del os.environ[key]
    os.environ.update(env)
    logging.disable(logging.INFO)

    timings: dict[str, tuple[float, int]] = {}
    try:
        print(f"database: {db_url}")
        total_users, _ = pages.fill_database(args.users)
        print(f"  {total_users} users")
        total = fill_pipeline(args.opportunities, args.closed, args.customers)
        print(f"  {total} opportunities in the table")
        for path in ("/sales/pipeline", "/sales/opportunities", "/sales/pipeline/summary"):
            timings[path] = time_page(path, args.user, args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")

    print()
    print(f"server time in process as {args.user}, median of {args.repeat} renders:")
    for path, (ms, statements) in timings.items():
        print(f"  {path:<28}{ms:>8.1f} ms {statements:>4} SQL statements")
    board_ms = timings["/sales/pipeline"][0]
    verdict = "meets" if board_ms <= 150 else "ABOVE"
    print(f"the board {verdict} the target of 150 ms with {args.opportunities} open opportunities")
    return 0 if board_ms <= 150 else 1


if __name__ == "__main__":
    sys.exit(main())
