#!/usr/bin/env python3
"""Benchmark: after-sales tickets, 100,000 over two years (issue 14, "Speed").

Reuses bench/pages.py (database, gunicorn, sign-in, load generator) and adds:

1. Fills the database: the demo company (pages.fill_database, its 150 demo tickets
   included), --customers customers (2,000) and --tickets tickets (100,000) received in
   working hours over the last two years, bulk-inserted (not through the services: a
   bench is not the demo), in every type, priority and channel, routed as the demo routes
   them, their deadlines on the company calendar; --open (10,000) of them open (half
   received in the last ten days, half in the last 120), the others resolved, replied to
   or closed, most closed ones rated; a missed deadline marked as the hourly scan would
   have; three history events per closed ticket, one per open one (--no-events: none);
   cost lines on a tenth of the repairs and returns.
2. The ticket list /service/tickets/ (open tickets, newest first), in process through
   the test client: SQL statements per request (counted with a SQLAlchemy event) and
   server time (median of --repeat), pages 1 and 50, as service1 and as the manager.
3. The quality report (service.quality.report: every breakdown, by department, person,
   type and month, with cost and budget) for the default six months and the longest
   period (24 months): median of --repeat in process, and its statements. Target <= 150 ms.
4. service-scan: service.tickets.scan(now) over the open tickets, median of 3, each rolled
   back: as the hourly run finds them (missed deadlines marked up to an hour ago), and
   cold (nothing marked yet: every breach and warning written). Target <= 5 s.
5. Adding working time: bench/workcal.py's pure calculator over a year with holidays and
   add_working_minutes() in the app on this database (target <= 50 µs per call).
6. The list under gunicorn against the bare page, as service1 and as the manager
   (target: ratio >= 0.5).

Run from the repository root:  .venv/bin/python bench/service.py [--db URL]
Small proof run:               .venv/bin/python bench/service.py --tickets 5000 --open 500 --seconds 2
PostgreSQL: an empty database of its own, e.g.
    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE mktapp_bench_service'
    .venv/bin/python bench/service.py --db postgresql+psycopg://postgres@127.0.0.1:5432/mktapp_bench_service
    psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE mktapp_bench_service'
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pages  # noqa: E402  (bench/pages.py: the shared machinery)

LIST_PATH = "/service/tickets/"
BATCH = 5_000
YEARS = 2
LIST_TARGET_RATIO = 0.5
QUALITY_TARGET_MS = 150
SCAN_TARGET_S = 5
WORKCAL_TARGET_US = 50

TYPES = {"consult": 30, "complaint": 20, "repair": 30, "return": 10, "dispute": 10}
PRIORITIES = {"urgent": 8, "high": 25, "medium": 47, "low": 20}
CHANNELS = {"phone": 40, "wechat": 25, "email": 10, "visit": 8, "web": 17}
OPEN_MIX = {"received": 35, "in_progress": 45, "waiting_customer": 10, "waiting_parts": 10}
RATINGS = {5: 45, 4: 33, 3: 14, 2: 5, 1: 3}
TITLES = {
    "consult": "咨询设备使用方法",
    "complaint": "投诉上门服务不及时",
    "repair": "会议平板无法开机",
    "return": "到货破损申请换货",
    "dispute": "对验收款金额存在异议",
}


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


# --- 1. the data -----------------------------------------------------------------------------


def _routes(users: dict) -> dict[str, tuple[int, list[int]]]:
    """ticket type -> (department id, the people who handle it), as the demo routes them."""
    from sqlalchemy import select

    from mktapp.extensions import db
    from mktapp.models import ServiceDepartment
    from mktapp.service import departments as depts

    depts.ensure_departments()
    by_code = {d.code: d for d in db.session.scalars(select(ServiceDepartment))}
    tech = db.session.scalar(select(ServiceDepartment).where(ServiceDepartment.name == "技术部"))
    if tech is None:
        tech = depts.save_department(
            users["admin"],
            None,
            name="技术部",
            description="",
            leader_id=users["service2"].id,
            member_ids=[users["service2"].id],
        )
    service = [users["service1"].id, users["service1"].id, users["service2"].id]
    sales = [users["sales3"].id, users["sales1"].id, users["sales2"].id]
    return {
        "consult": (by_code["service"].id, service),
        "complaint": (by_code["service"].id, service),
        "repair": (tech.id, [users["service2"].id]),
        "return": (by_code["sales"].id, sales),
        "dispute": (by_code["sales"].id, sales),
    }


def _customers(n_customers: int, rng: random.Random, now: datetime) -> list[int]:
    """Bulk-insert customers (one contact each) up to n_customers; returns every id."""
    from sqlalchemy import func, insert, select

    from mktapp.extensions import db
    from mktapp.models import Role, User
    from mktapp.models.sales import Contact, Customer
    from mktapp.sales.customers import name_key

    have = db.session.scalar(select(func.count(Customer.id))) or 0
    reps = list(
        db.session.scalars(
            select(User.id).join(User.roles).where(Role.code == "sales_rep").order_by(User.id)
        )
    )
    missing = n_customers - have
    for start in range(0, max(0, missing), BATCH):
        size = min(BATCH, missing - start)
        rows = []
        for i in range(size):
            name = f"售后基准客户{have + start + i + 1:05d}号有限公司"
            created = now - timedelta(days=rng.randint(200, 1500))
            owner = rng.choice(reps) if reps else None
            rows.append(
                {
                    "name": name,
                    "name_key": name_key(name),
                    "kind": "company",
                    "industry": "",
                    "province": "上海",
                    "city": "上海",
                    "grade": rng.choice("ABCCC"),
                    "status": "won",
                    "source": "other",
                    "source_detail": "",
                    "owner_id": owner,
                    "assigned_at": created if owner else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        ids = list(
            db.session.scalars(
                insert(Customer).returning(Customer.id, sort_by_parameter_order=True), rows
            )
        )
        db.session.execute(
            insert(Contact),
            [
                {
                    "customer_id": cid,
                    "name": "联系人",
                    "phone": f"139{cid:08d}",
                    "phone_key": f"139{cid:08d}",
                    "is_primary": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for cid in ids
            ],
        )
        db.session.commit()
    return list(db.session.scalars(select(Customer.id).order_by(Customer.id)))


def _received(rng: random.Random, zone, now: datetime, days: int) -> datetime:
    """A moment in working hours (09:00-17:30, lunch skipped) of the last `days` days."""
    while True:
        day = (now.astimezone(zone) - timedelta(days=rng.randint(0, days))).date()
        if day.weekday() < 5 or rng.random() < 0.05:
            break
    minute = rng.randint(9 * 60, 17 * 60 + 29)
    if 12 * 60 <= minute < 13 * 60 + 30:
        minute += 90
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, rng.randint(0, 59))
    moment = local.replace(tzinfo=zone).astimezone(UTC)
    return moment if moment < now else now - timedelta(minutes=rng.randint(1, 600))


def _ticket(rng, cal, limits, routes, customers, now, received, status) -> tuple[dict, list]:
    """One ticket's row and its events (kind, moment, to_status)."""
    kind = _pick(rng, TYPES)
    priority = _pick(rng, PRIORITIES)
    response, resolution = limits[(kind, priority)]
    department, people = routes[kind]
    owner = rng.choice(people)
    response_by = cal.add_minutes(received, response)
    resolution_by = cal.add_minutes(received, resolution)
    row = {
        "customer_id": rng.choice(customers),
        "channel": _pick(rng, CHANNELS),
        "ticket_type": kind,
        "priority": priority,
        "title": TITLES[kind],
        "description": "客户反映的问题，详见通话记录。",
        "status": status,
        "department_id": department,
        "owner_id": owner,
        "created_by_id": owner,
        "received_at": received,
        "response_by": response_by,
        "resolution_by": resolution_by,
        "first_response_at": None,
        "resolved_at": None,
        "replied_at": None,
        "closed_at": None,
        "paused_at": None,
        "paused_minutes": 0,
        "response_minutes": None,
        "resolution_minutes": None,
        "response_breached": False,
        "resolution_breached": False,
        "reopen_count": 0,
        "resolution": "",
        "rating": None,
        "rating_comment": "",
        "rated_at": None,
        "row_version": 1,
        "created_at": received,
        "updated_at": received,
    }
    events = [("received", received, "received")]
    marked = now - timedelta(hours=1)  # what the last hourly scan saw
    if status != "received":
        minutes = int(response * rng.uniform(0.05, 1.25))
        row["first_response_at"] = cal.add_minutes(received, minutes)
        row["response_minutes"] = minutes
        row["response_breached"] = minutes > response
    if status in ("resolved", "replied", "closed"):
        minutes = max(row["response_minutes"] + 5, int(resolution * rng.uniform(0.2, 1.3)))
        resolved = cal.add_minutes(received, minutes)
        row.update(
            resolved_at=resolved,
            resolution_minutes=minutes,
            resolution_breached=minutes > resolution,
            resolution="已处理。",
            updated_at=resolved,
        )
        events.append(("resolution", resolved, ""))
        if status in ("replied", "closed"):
            row["replied_at"] = resolved + timedelta(hours=2)
            events.append(("reply", row["replied_at"], ""))
        if status == "closed":
            row["closed_at"] = row["replied_at"] + timedelta(days=1)
            row["updated_at"] = row["closed_at"]
            if rng.random() < 0.8 and row["closed_at"] + timedelta(days=2) < now:
                row["rating"] = _pick(rng, RATINGS)
                row["rated_at"] = row["closed_at"] + timedelta(days=1)
    else:
        if status in ("waiting_customer", "waiting_parts"):
            row["paused_at"] = max(
                row["first_response_at"], now - timedelta(minutes=rng.randint(60, 4000))
            )
        else:
            if row["first_response_at"] is None and response_by < marked:
                row["response_breached"] = True
            if resolution_by < marked:
                row["resolution_breached"] = True
    return row, events


def fill_tickets(
    n_tickets: int, n_customers: int, n_open: int, with_events: bool, seed: int = 14
) -> dict:
    """Customers, tickets, events and cost lines (bulk); a filled database is reused."""
    from sqlalchemy import func, insert, select, text

    from mktapp import create_app
    from mktapp.core import clock, workcal
    from mktapp.extensions import db
    from mktapp.models import Ticket, TicketCost, TicketEvent, User
    from mktapp.service import sla

    rng = random.Random(seed)
    app = create_app()
    with app.test_request_context():
        have = db.session.scalar(select(func.count(Ticket.id))) or 0
        if have >= n_tickets:
            counts = _counts()
            db.session.remove()
            db.engine.dispose()
            return counts
        started = time.perf_counter()
        now = clock.now()
        zone = clock.zone()
        users = {u.username: u for u in db.session.scalars(select(User))}
        routes = _routes(users)
        db.session.commit()
        customers = _customers(n_customers, rng, now)
        cal = workcal.company_calendar()
        limits = sla.matrix()
        missing = n_tickets - have
        open_left = max(
            0,
            n_open
            - db.session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.status.in_(
                        ("received", "in_progress", "waiting_customer", "waiting_parts")
                    )
                )
            ),
        )
        # The open ones are the newest: half of the last ten days, half of the last 120.
        plan = []
        for i in range(missing):
            if i < open_left:
                days = 10 if i % 2 else 120
                plan.append((_received(rng, zone, now, days), _pick(rng, OPEN_MIX)))
            else:
                received = _received(rng, zone, now, 365 * YEARS)
                recent = (now - received).days < 30
                status = "closed"
                if recent and rng.random() < 0.3:
                    status = rng.choice(["resolved", "replied"])
                plan.append((received, status))
        plan.sort(key=lambda p: p[0])
        serial: dict[int, int] = {}
        for start in range(0, missing, BATCH):
            rows, events = [], []
            for received, status in plan[start : start + BATCH]:
                row, evs = _ticket(rng, cal, limits, routes, customers, now, received, status)
                year = received.astimezone(zone).year
                serial[year] = serial.get(year, 0) + 1
                row["number"] = f"SH-{year}-{serial[year]:05d}"  # five digits: not the demo's
                rows.append(row)
                events.append(evs)
            ids = list(
                db.session.scalars(
                    insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True), rows
                )
            )
            event_rows, cost_rows = [], []
            for ticket_id, row, evs in zip(ids, rows, events, strict=True):
                if with_events:
                    for kind, at, to_status in evs:
                        event_rows.append(
                            {
                                "ticket_id": ticket_id,
                                "at": at,
                                "user_id": row["owner_id"],
                                "kind": kind,
                                "from_status": "",
                                "to_status": to_status,
                                "channel": row["channel"] if kind == "received" else "",
                                "body": "",
                                "department_id": row["department_id"],
                                "owner_id": row["owner_id"],
                            }
                        )
                if (
                    row["resolved_at"] is not None
                    and row["ticket_type"] in ("repair", "return")
                    and rng.random() < 0.1
                ):
                    amount = Decimal(rng.randrange(100, 3000, 10))
                    cost_rows.append(
                        {
                            "ticket_id": ticket_id,
                            "kind": rng.choice(["parts", "labour", "travel", "other"]),
                            "description": "",
                            "quantity": Decimal("1"),
                            "unit_price": amount,
                            "amount": amount,
                            "spent_on": row["resolved_at"].astimezone(zone).date(),
                            "created_by_id": row["owner_id"],
                            "created_at": row["resolved_at"],
                        }
                    )
            if event_rows:
                db.session.execute(insert(TicketEvent), event_rows)
            if cost_rows:
                db.session.execute(insert(TicketCost), cost_rows)
            db.session.commit()
        db.session.execute(text("ANALYZE"))  # the planner's statistics, as after a day's use
        db.session.commit()
        print(f"  inserted {missing} tickets in {time.perf_counter() - started:.1f} s")
        counts = _counts()
        db.session.remove()
        db.engine.dispose()
    return counts


def _counts() -> dict:
    from sqlalchemy import func, select

    from mktapp.extensions import db
    from mktapp.models import Customer, Ticket, TicketCost, TicketEvent

    statuses = dict(
        db.session.execute(
            select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status)
        ).all()
    )
    return {
        "tickets": sum(statuses.values()),
        "open": sum(statuses.get(s, 0) for s in OPEN_MIX),
        "statuses": statuses,
        "customers": db.session.scalar(select(func.count(Customer.id))),
        "events": db.session.scalar(select(func.count(TicketEvent.id))),
        "costs": db.session.scalar(select(func.count(TicketCost.id))),
    }


# --- 2. the list -------------------------------------------------------------------------------


def time_list(path: str, users: list[str], repeat: int) -> dict:
    """(user, page) -> (median ms, SQL statements) of the list through the test client."""
    from mktapp import create_app

    out = {}
    for username in users:
        app = create_app()
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        client.post("/auth/login", data={"username": username, "password": "mktapp-demo-2026"})
        for page in (1, 50):
            url = f"{path}?page={page}" if page > 1 else path
            assert client.get(url).status_code == 200, url  # warm
            out[(username, page)] = pages.time_requests(app, client, url, repeat)
    return out


# --- 3. the quality report --------------------------------------------------------------------


def time_quality(repeat: int) -> dict | None:
    """Median ms and statements of quality.report(manager, period) for six and 24 months."""
    from sqlalchemy import event, select

    from mktapp import create_app
    from mktapp.extensions import db
    from mktapp.models import User

    try:
        from mktapp.service import quality
    except ImportError:  # the quality part not in this checkout
        return None
    report = getattr(quality, "report", None)
    if report is None:
        return None
    app = create_app()
    out = {}
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def _count(conn, cursor, statement, *args):
        seen.append(statement)

    for label, months in (("6 months", None), ("24 months", quality.MAX_MONTHS)):
        times = []
        statements = 0
        for run in range(repeat + 1):
            with app.test_request_context():
                manager = db.session.scalar(select(User).where(User.username == "manager"))
                period = quality.default_period()
                if months:
                    period = quality.Period(
                        quality.add_months(period.last, 1 - months), period.last
                    )
                seen.clear()
                event.listen(engine, "before_cursor_execute", _count)
                t0 = time.perf_counter()
                rep = report(manager, period)
                elapsed = (time.perf_counter() - t0) * 1000
                event.remove(engine, "before_cursor_execute", _count)
                if run:  # the first run warms the caches (settings, names)
                    times.append(elapsed)
                    statements = len(seen)
                total = rep.total
                db.session.rollback()
        out[label] = {
            "ms": statistics.median(times),
            "statements": statements,
            "tickets": getattr(total, "tickets", None),
            "departments": len(rep.by_department),
            "people": len(rep.by_person),
        }
    with app.app_context():
        db.engine.dispose()
    return out


# --- 4. the scan ---------------------------------------------------------------------------------


def time_scan(runs: int = 3) -> dict:
    """tickets.scan(now): as the hourly run finds the tickets, and cold; each rolled back."""
    from sqlalchemy import func, select, update

    from mktapp import create_app
    from mktapp.core import clock
    from mktapp.extensions import db
    from mktapp.models import Ticket
    from mktapp.service import tickets as svc

    app = create_app()
    out = {}
    with app.test_request_context():
        scanned = db.session.scalar(
            select(func.count(Ticket.id)).where(Ticket.status.in_(("received", "in_progress")))
        )
    for label, cold in (("hourly", False), ("cold", True)):
        times, result = [], (0, 0)
        for _ in range(runs):
            with app.test_request_context():
                if cold:
                    db.session.execute(
                        update(Ticket)
                        .where(Ticket.status.in_(tuple(OPEN_MIX)))
                        .values(response_breached=False, resolution_breached=False)
                        .execution_options(synchronize_session=False)
                    )
                t0 = time.perf_counter()
                result = svc.scan(clock.now())
                db.session.flush()
                times.append(time.perf_counter() - t0)
                db.session.rollback()
        out[label] = {"s": statistics.median(times), "warned": result[0], "breached": result[1]}
    out["scanned"] = scanned
    with app.app_context():
        db.engine.dispose()
    return out


# --- 5. working time -------------------------------------------------------------------------


def time_workcal(calls: int, repeat: int) -> dict:
    """bench/workcal.py's pure calculator, and add_working_minutes() on this database."""
    from zoneinfo import ZoneInfo

    from mktapp import create_app
    from mktapp.core import clock, workcal
    from mktapp.extensions import db

    spec = importlib.util.spec_from_file_location("bench_workcal", ROOT / "bench" / "workcal.py")
    wbench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wbench)
    year = clock.today().year
    pure = wbench.bench_pure(year, calls, repeat)
    app = create_app()
    with app.test_request_context():
        starts, spans, _ = wbench._samples(
            year, calls, ZoneInfo(app.config.get("TIMEZONE") or "Asia/Shanghai")
        )
        pairs = list(zip(starts, spans, strict=True))
        workcal.add_working_minutes(starts[0], spans[0])  # the calendar read and built

        def adding():
            for s, m in pairs:
                workcal.add_working_minutes(s, m)

        in_app = wbench._per_call(adding, calls, repeat)
        db.session.remove()
    with app.app_context():
        db.engine.dispose()
    print(
        f"  add_working_minutes (app, this database, calendar on flask.g): {in_app:6.2f} µs per call"
    )
    return {"pure": pure, "app": in_app}


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets (100000)")
    parser.add_argument("--customers", type=int, default=2_000, help="customers (2000)")
    parser.add_argument("--open", type=int, default=10_000, help="open tickets among them (10000)")
    parser.add_argument("--no-events", action="store_true", help="no history events")
    parser.add_argument("--users", type=int, default=50, help="users in the table (50)")
    parser.add_argument("--repeat", type=int, default=5, help="timings per figure (5)")
    parser.add_argument("--calls", type=int, default=20_000, help="working-time calls (20000)")
    parser.add_argument("--list-path", default=LIST_PATH, help=f"the list page ({LIST_PATH})")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load test")
    pages.common_arguments(parser)
    args = parser.parse_args()

    loads: dict = {}
    with pages.bench_environment("service", args) as env:
        total_users, _ = pages.fill_database(args.users)
        print(f"  {total_users} users")
        t0 = time.perf_counter()
        counts = fill_tickets(args.tickets, args.customers, args.open, not args.no_events)
        print(
            f"  {counts['tickets']} tickets ({counts['open']} open), {counts['customers']} "
            f"customers, {counts['events']} events, {counts['costs']} cost lines "
            f"({time.perf_counter() - t0:.1f} s to load)"
        )
        listing = time_list(args.list_path, ["service1", "manager"], args.repeat)
        quality = time_quality(args.repeat)
        scan = time_scan()
        print("working time:")
        work = time_workcal(args.calls, args.repeat)
        if not args.no_load:
            for user in ("service1", "manager"):
                loads[user] = pages.load_beside_bare(env, args, args.list_path, user)

    print()
    print(
        f"ticket list {args.list_path} (open tickets, newest first; in process, median of {args.repeat}):"
    )
    for (user, page), (ms, statements) in listing.items():
        print(f"  {user:<10} page {page:>2}: {ms:7.1f} ms, {statements} SQL statements")
    fixed = len({s for _ms, s in listing.values()}) == 1
    print(f"  the statements per request are {'fixed' if fixed else 'NOT the same on every page'}")
    if quality is None:
        # TODO(issue 14): time the quality report once mktapp/service/quality.py has report().
        print(
            "quality report: mktapp/service/quality.py has no report() in this checkout: not timed"
        )
    else:
        print(
            f"quality report (quality.report as the manager; in process, median of {args.repeat}):"
        )
        for label, q in quality.items():
            verdict = "meets" if q["ms"] <= QUALITY_TARGET_MS else "ABOVE"
            print(
                f"  {label:<10} {q['ms']:7.1f} ms, {q['statements']} SQL statements, "
                f"{q['tickets']} tickets, {q['departments']} departments, {q['people']} people "
                f"({verdict} the target of {QUALITY_TARGET_MS} ms)"
            )
    print(
        f"service-scan over {scan['scanned']} running tickets ({counts['open']} open; median of 3):"
    )
    for label in ("hourly", "cold"):
        s = scan[label]
        verdict = "meets" if s["s"] <= SCAN_TARGET_S else "ABOVE"
        print(
            f"  {label:<7} {s['s']:6.2f} s: {s['warned']} warnings, {s['breached']} breaches "
            f"({verdict} the target of {SCAN_TARGET_S} s)"
        )
    worst = max(work.values())
    verdict = "meets" if worst <= WORKCAL_TARGET_US else "ABOVE"
    print(
        f"adding working time: {work['pure']:.2f} µs (calculator), {work['app']:.2f} µs (app) "
        f"per call ({verdict} the target of {WORKCAL_TARGET_US} µs)"
    )
    failed = 0
    for user, results in loads.items():
        print(f"\nunder load as {user}:")
        failed |= pages.print_load(results)
    return failed


if __name__ == "__main__":
    sys.exit(main())
