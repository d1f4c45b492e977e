#!/usr/bin/env python3
"""Benchmark: customers and follow-ups at scale (issue 4, "Speed").

Reuses bench/pages.py (database, gunicorn, sign-in, load generator) and adds:

1. 100,000 customers (--customers) with one contact each and 1,000,000 follow-ups
   (--followups), bulk-inserted in batches (executemany); one customer gets 1,000 of the
   follow-ups (the customer page's worst case).
2. The customer list /sales/customers/ against the bare page: requests/s ratio under
   gunicorn (target >= 0.5), and its SQL statements per request.
3. The customer page of the customer with 1,000 follow-ups: SQL statements (target <= 8)
   and server time (in process, median of --repeat).
4. Importing 5,000 rows from an .xlsx file through the pages (upload, check, import) by
   the test client: seconds for each step (target <= 10 s for the import).

Run from the repository root:
    .venv/bin/python bench/sales.py [--db URL] [--customers 100000] [--followups 1000000]
Prove it works at small sizes:  bench/sales.py --customers 2000 --followups 20000 --seconds 3
"""

from __future__ import annotations

import argparse
import io
import random
import re
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pages  # noqa: E402  (bench/pages.py: the shared machinery)

HEAVY_NAME = "基准测试重点客户有限公司"
HEAVY_FOLLOWUPS = 1000
BATCH = 10_000
CITIES = [
    ("上海", "上海"),
    ("北京", "北京"),
    ("江苏", "苏州"),
    ("浙江", "杭州"),
    ("广东", "深圳"),
    ("山东", "青岛"),
    ("四川", "成都"),
    ("湖北", "武汉"),
]
WORDS = "华瑞 恒通 宏达 金桥 东方 新锐 博远 天成 盛世 中科 远航 合众 鼎信 永安 安泰 九州".split()
TRADES = "精密机械 电子科技 医疗器械 信息技术 新能源科技 物流 食品 建材".split()


def fill(n_customers: int, n_followups: int, seed: int = 11) -> tuple[int, int, int]:
    """Bulk-insert customers, contacts and follow-ups; returns (customers, follow-ups, heavy id)."""
    from sqlalchemy import func, select

    from mktapp import create_app
    from mktapp.core import clock
    from mktapp.extensions import db
    from mktapp.models import Role, User
    from mktapp.models.sales import Contact, Customer, Interaction
    from mktapp.sales.customers import name_key

    rng = random.Random(seed)
    app = create_app()
    with app.app_context():
        heavy = db.session.scalar(select(Customer.id).where(Customer.name == HEAVY_NAME))
        have = db.session.scalar(select(func.count(Customer.id))) or 0
        reps = list(
            db.session.scalars(
                select(User.id).join(User.roles).where(Role.code == "sales_rep").order_by(User.id)
            )
        )
        manager = db.session.scalar(select(User.id).where(User.username == "manager"))
        now = clock.now()
        started = time.perf_counter()
        if heavy is None:
            row = {
                "name": HEAVY_NAME,
                "name_key": name_key(HEAVY_NAME),
                "kind": "company",
                "grade": "A",
                "status": "intent",
                "source": "fair",
                "owner_id": reps[0] if reps else manager,
                "created_at": now,
                "updated_at": now,
            }
            heavy = db.session.execute(
                Customer.__table__.insert().values(**row)
            ).inserted_primary_key[0]
            db.session.execute(
                Interaction.__table__.insert(),
                [
                    {
                        "customer_id": heavy,
                        "owner_id": row["owner_id"],
                        "kind": "call",
                        "happened_at": now - timedelta(hours=i),
                        "notes": f"第 {i} 次电话沟通",
                        "next_action": "",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(HEAVY_FOLLOWUPS)
                ],
            )
            have += 1
        missing = n_customers - have
        for start in range(0, max(0, missing), BATCH):
            size = min(BATCH, missing - start)
            first = db.session.scalar(select(func.coalesce(func.max(Customer.id), 0))) + 1
            rows = []
            for i in range(size):
                province, city = rng.choice(CITIES)
                name = f"{city}{rng.choice(WORDS)}{rng.choice(TRADES)}{first + i}号有限公司"
                created = now - timedelta(minutes=rng.randint(0, 525_600))
                owner = rng.choice(reps + [None]) if reps else None
                rows.append(
                    {
                        "id": first + i,
                        "name": name,
                        "name_key": name_key(name),
                        "kind": "company",
                        "industry": "",
                        "province": province,
                        "city": city,
                        "grade": rng.choice("ABCCC"),
                        "status": rng.choice(["potential", "potential", "intent", "won", "lost"]),
                        "source": rng.choice(["fair", "web", "referral", "research", "other"]),
                        "source_detail": "",
                        "owner_id": owner,
                        "assigned_at": created if owner else None,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
            db.session.execute(Customer.__table__.insert(), rows)
            db.session.execute(
                Contact.__table__.insert(),
                [
                    {
                        "customer_id": r["id"],
                        "name": "联系人",
                        "phone": f"139{r['id']:08d}",
                        "phone_key": f"139{r['id']:08d}",
                        "is_primary": True,
                        "created_at": r["created_at"],
                        "updated_at": r["created_at"],
                    }
                    for r in rows
                ],
            )
            db.session.commit()
        total = db.session.scalar(select(func.count(Customer.id)))
        have_f = db.session.scalar(select(func.count(Interaction.id))) or 0
        missing_f = n_followups - have_f
        if missing_f > 0:
            lo, hi = db.session.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
            for start in range(0, missing_f, BATCH):
                size = min(BATCH, missing_f - start)
                batch = []
                for _ in range(size):
                    at = now - timedelta(minutes=rng.randint(0, 525_600))
                    nxt = (at + timedelta(days=7)).date() if rng.random() < 0.3 else None
                    batch.append(
                        {
                            "customer_id": rng.randint(lo, hi),
                            "owner_id": rng.choice(reps) if reps else manager,
                            "kind": rng.choice(["call", "visit", "email", "wechat"]),
                            "happened_at": at,
                            "notes": "电话沟通采购计划",
                            "next_date": nxt,
                            "next_action": "回访" if nxt else "",
                            "reminded_on": nxt if nxt and nxt < now.date() else None,
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
                db.session.execute(Interaction.__table__.insert(), batch)
                db.session.commit()
        print(
            f"  filled in {time.perf_counter() - started:.1f} s"
            if missing > 0 or missing_f > 0
            else "  (reused)"
        )
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE customers, contacts, interactions")
        followups = db.session.scalar(select(func.count(Interaction.id)))
        db.session.remove()
        db.engine.dispose()
    return total, followups, heavy


def time_page(path: str, username: str, repeat: int) -> float:
    """Median server time of one page in process (test client), in ms."""
    from mktapp import create_app
    from mktapp.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/auth/login", data={"username": username, "password": "mktapp-demo-2026"})
    client.get(path)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    with app.app_context():
        db.engine.dispose()
    return statistics.median(times)


def import_rows(n_rows: int, username: str) -> dict:
    """Import n_rows new leads from an .xlsx file through the pages; seconds per step."""
    from openpyxl import Workbook

    from mktapp import create_app
    from mktapp.extensions import db

    stamp = secrets.token_hex(3)
    book = Workbook()
    sheet = book.active
    sheet.append(["客户名称", "联系人", "手机", "省份", "城市", "备注"])
    for i in range(n_rows):
        sheet.append(
            [
                f"导入基准{stamp}客户{i}有限公司",
                f"联系人{i}",
                f"137{i:08d}",
                "浙江",
                "杭州",
                "展会名片",
            ]
        )
    data = io.BytesIO()
    book.save(data)
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/auth/login", data={"username": username, "password": "mktapp-demo-2026"})
    out: dict = {}
    t0 = time.perf_counter()
    response = client.post(
        "/sales/customers/import",
        data={"file": (io.BytesIO(data.getvalue()), "bench.xlsx")},
        content_type="multipart/form-data",
    )
    out["upload"] = time.perf_counter() - t0
    token = re.search(r"/import/([\w-]+)", response.headers.get("Location", ""))
    if token is None:
        raise SystemExit(f"upload refused: HTTP {response.status_code}")
    url = f"/sales/customers/import/{token.group(1)}"
    form = {
        "col0": "name",
        "col1": "contact_name",
        "col2": "phone",
        "col3": "province",
        "col4": "city",
        "col5": "notes",
        "source": "fair",
        "source_detail": "bench",
        "owner_id": "",
    }
    t0 = time.perf_counter()
    response = client.post(url, data=form)
    out["check"] = time.perf_counter() - t0
    assert response.status_code == 200, response.status_code
    t0 = time.perf_counter()
    response = client.post(url + "/run", data=form)
    out["import"] = time.perf_counter() - t0
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with app.app_context():
        db.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers (100000)")
    parser.add_argument("--followups", type=int, default=1_000_000, help="follow-ups (1000000)")
    parser.add_argument("--import-rows", type=int, default=5000, help="rows imported (5000)")
    parser.add_argument("--users", type=int, default=200, help="users in the table (200)")
    parser.add_argument("--path", default="/sales/customers/", help="the customer list")
    parser.add_argument("--repeat", type=int, default=10, help="timings of the customer page")
    parser.add_argument("--user", default="manager", help="demo user for the pages (manager)")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load test")
    pages.common_arguments(parser)
    args = parser.parse_args()

    results: dict = {}
    with pages.bench_environment("sales", args) as env:
        total_users, _ = pages.fill_database(args.users)
        print(f"  {total_users} users")
        customers, followups, heavy = fill(args.customers, args.followups)
        print(f"  {customers} customers, {followups} follow-ups")
        detail = f"/sales/customers/{heavy}"
        detail_statements = pages.count_statements(detail, args.user)
        detail_ms = time_page(detail, args.user, args.repeat)
        list_statements = pages.count_statements(args.path, args.user)
        list_ms = time_page(args.path, args.user, args.repeat)
        imported = import_rows(args.import_rows, "market1")
        if not args.no_load:
            results = pages.load_beside_bare(env, args, args.path, args.user)

    print()
    ok = detail_statements is not None and detail_statements <= 8
    print(
        f"customer page with {HEAVY_FOLLOWUPS} follow-ups: {detail_statements} SQL statements"
        f" ({'meets' if ok else 'ABOVE'} the target of 8), {detail_ms:.1f} ms in process"
    )
    print(f"customer list: {list_statements} SQL statements, {list_ms:.1f} ms in process")
    total = sum(imported.values())
    print(
        f"import of {args.import_rows} rows: upload {imported['upload']:.2f} s, check "
        f"{imported['check']:.2f} s, import {imported['import']:.2f} s; total {total:.2f} s"
        f" ({'meets' if imported['import'] <= 10 else 'ABOVE'} the target of 10 s for the import)"
    )
    return pages.print_load(results) if results else 0


if __name__ == "__main__":
    sys.exit(main())
