#!/usr/bin/env python3
"""Benchmark: the app's user directory against a bare Flask + SQLAlchemy page.

1. Fills a database (a SQLite file in a temporary folder, or --db URL) with the demo
   organisation and --users users (bulk insert, one cheap password hash for all).
2. Serves the app with gunicorn (2 sync workers, `gunicorn app:app`) and, beside it,
   bench/bare_app.py (a bare page listing 50 rows of the same users table), each on
   a free port of 127.0.0.1.
3. Signs in to the app with a real POST (CSRF token included), then loads each page
   from 127.0.0.1 for a bounded time (and, with the Python client, a bounded count):
   wrk when it is installed, else a threaded keep-alive Python client.
4. Prints requests/s, p50 and p99 for each page and the ratio app/bare
   (target: at least 0.5), and the number of SQL statements one app request runs.

Run from the repository root:  .venv/bin/python bench/pages.py [--path /org/users]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
CHEAP_HASH = "pbkdf2:sha256:1000"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯健俊帆欣怡晨阳佳琳雪梅婷慧颖倩楠"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- 1. the database -------------------------------------------------------------


def fill_database(n_users: int) -> tuple[int, str]:
    """Migrate, load the demo organisation, and bulk-insert users up to n_users.

    Runs in this process with the MKTAPP_* variables already set. Returns the number
    of users and the hash method the demo logins were made with.
    """
    from flask_migrate import upgrade
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from mktapp import create_app
    from mktapp.cli import database_is_empty, seed_demo_data
    from mktapp.extensions import db
    from mktapp.models import Group, Post, Role, User
    from mktapp.models.org import user_roles

    app = create_app()
    with app.app_context():
        upgrade()
        if database_is_empty():
            seed_demo_data(app.config["PASSWORD_HASH_METHOD"])
        have = db.session.scalar(select(func.count(User.id))) or 0
        missing = n_users - have
        if missing > 0:
            started = time.perf_counter()
            groups = {g.code: g.id for g in db.session.scalars(select(Group))}
            posts = {p.code: p.id for p in db.session.scalars(select(Post))}
            roles = {r.code: r.id for r in db.session.scalars(select(Role))}
            kinds = [
                ("sales", "sales_rep", "sales_rep"),
                ("market", "market_specialist", "market_specialist"),
                ("service", "service_agent", "service_agent"),
            ]
            password_hash = generate_password_hash("bench1234", CHEAP_HASH)
            first = have + 1
            rows, role_rows = [], []
            for i in range(first, first + missing):
                group, post, role = kinds[i % 3]
                name = (
                    SURNAMES[i % len(SURNAMES)]
                    + GIVEN[(i // 7) % len(GIVEN)]
                    + (GIVEN[(i // 3) % len(GIVEN)] if i % 2 else "")
                )
                rows.append(
                    {
                        "username": f"user{i:05d}",
                        "display_name": name,
                        "email": f"user{i:05d}@example.cn",
                        "phone": f"139-{i // 10000:04d}-{i % 10000:04d}",
                        "password_hash": password_hash,
                        "active": i % 50 != 0,
                        "group_id": groups.get(group),
                        "post_id": posts.get(post),
                        "joined_on": date(2020 + i % 5, 1 + i % 12, 1 + i % 28),
                    }
                )
            for start in range(0, len(rows), 2000):
                db.session.execute(User.__table__.insert(), rows[start : start + 2000])
            ids = db.session.execute(
                select(User.id, User.username).where(User.username.like("user%"))
            ).all()
            for user_id, username in ids:
                role_rows.append(
                    {"user_id": user_id, "role_id": roles[kinds[int(username[4:]) % 3][2]]}
                )
            for start in range(0, len(role_rows), 5000):
                db.session.execute(user_roles.insert(), role_rows[start : start + 5000])
            db.session.commit()
            print(f"  inserted {missing} users in {time.perf_counter() - started:.1f} s")
        total = db.session.scalar(select(func.count(User.id)))
        hash_method = app.config["PASSWORD_HASH_METHOD"]
        db.session.remove()
        db.engine.dispose()
    return total, hash_method


def count_statements(path: str, username: str, show: bool = False) -> int | None:
    """SQL statements one signed-in request for `path` runs (in process, test client)."""
    from sqlalchemy import event

    from mktapp import create_app
    from mktapp.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/auth/login", data={"username": username, "password": "mktapp-demo-2026"})
    client.get(path)  # warm caches (roles, babel ...)
    seen: list[str] = []

    def _count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    with app.app_context():
        db.engine.dispose()
    if show:
        for statement in seen:
            print("  SQL:", " ".join(statement.split())[:300])
    return len(seen) if response.status_code == 200 else None


# --- 2. the servers ----------------------------------------------------------------


def start_gunicorn(target: str, port: int, env: dict, chdir: Path, workers: int):
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--chdir",
        str(chdir),
        target,
    ]
    # A session of its own, so that stopping it stops exactly its workers.
    return subprocess.Popen(cmd, cwd=str(chdir), env=env, start_new_session=True)


def stop(proc) -> None:
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until_up(port: int, path: str, proc, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer within {timeout:.0f} s")


def get(port: int, path: str, cookie: str = "") -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    return resp.status, dict(resp.getheaders()), body


def sign_in(port: int, username: str, password: str) -> str:
    """Sign in through the login form (CSRF token and all); returns the Cookie header."""
    import requests

    base = f"http://127.0.0.1:{port}"
    s = requests.Session()
    page = s.get(f"{base}/auth/login", timeout=10).text
    match = CSRF_RE.search(page)
    if not match:
        raise SystemExit("no CSRF token on the login page")
    r = s.post(
        f"{base}/auth/login",
        data={"username": username, "password": password, "csrf_token": match.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    if r.status_code not in (200, 204, 302, 303) or "session" not in s.cookies:
        raise SystemExit(f"sign-in as {username} failed: HTTP {r.status_code}")
    if r.status_code == 200:
        raise SystemExit(f"sign-in as {username} was refused (the form came back)")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


# --- 3. the load -------------------------------------------------------------------


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    number, unit = float(m.group(1)), m.group(2)
    return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number


def load_with_wrk(url: str, cookie: str, seconds: float, connections: int) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return {"rps": rps, "p50": p50, "p99": p99, "count": count, "errors": errors}


def load_with_python(
    port: int, path: str, cookie: str, seconds: float, connections: int, max_requests: int
) -> dict:
    """A threaded keep-alive client: one connection per thread, until time or count runs out."""
    latencies: list[float] = []
    errors = [0]
    started_requests = [0]
    lock = threading.Lock()
    headers = {"Cookie": cookie} if cookie else {}
    deadline = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                if started_requests[0] >= max_requests:
                    break
                started_requests[0] += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
            if len(mine) >= 50:
                with lock:
                    latencies.extend(mine)
                mine = []
        with lock:
            latencies.extend(mine)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "count": len(latencies),
        "errors": errors[0],
    }


def measure(port, path, cookie, args, use_wrk) -> dict:
    for _ in range(30):  # warm-up: imports, template cache, connection pools
        get(port, path, cookie)
    if use_wrk:
        return load_with_wrk(
            f"http://127.0.0.1:{port}{path}", cookie, args.seconds, args.connections
        )
    return load_with_python(port, path, cookie, args.seconds, args.connections, args.max_requests)


# --- what every benchmark script shares --------------------------------------------------


def time_requests(app, client, path: str, repeat: int) -> tuple[float, int]:
    """Median time (ms) of `repeat` GETs of `path` by `client` (a test client of `app`,
    signed in), and the SQL statements one of them runs."""
    from sqlalchemy import event

    from mktapp.extensions import db

    seen: list[str] = []

    def _count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    times = []
    event.listen(engine, "before_cursor_execute", _count)
    try:
        for _ in range(repeat):
            seen.clear()
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    with app.app_context():
        db.engine.dispose()
    return statistics.median(times), len(seen)


def common_arguments(parser: argparse.ArgumentParser, seconds: float = 10) -> None:
    """The options every benchmark takes: database, load, servers, client, keep."""
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temporary folder)")
    parser.add_argument(
        "--seconds", type=float, default=seconds, help=f"load time per page ({seconds:g})"
    )
    parser.add_argument(
        "--max-requests", type=int, default=100_000, help="cap per page (Python client)"
    )
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--no-fragment-cache",
        action="store_true",
        help="serve with the rendered-fragment cache off (MKTAPP_FRAGMENT_CACHE=0)",
    )


@contextmanager
def bench_environment(prefix: str, args):
    """A temporary folder with the database (or --db), the MKTAPP_* environment set for
    this process and the servers; yields that environment; removes the folder after."""
    if args.client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --client python")
    work = Path(tempfile.mkdtemp(prefix=f"mktapp-bench-{prefix}-", dir="/tmp"))
    db_url = args.db or f"sqlite:///{work / 'bench.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MKTAPP_")}
    env.update(
        {
            "MKTAPP_DATABASE_URL": db_url,
            "MKTAPP_INSTANCE_PATH": str(work / "instance"),
            "MKTAPP_SECRET_KEY": secrets.token_hex(32),
            "MKTAPP_PASSWORD_HASH_METHOD": CHEAP_HASH,
            "BENCH_DATABASE_URL": db_url,
            "MKTAPP_FRAGMENT_CACHE": "0" if getattr(args, "no_fragment_cache", False) else "1",
        }
    )
    os.environ.update(env)
    for key in [k for k in os.environ if k.startswith("MKTAPP_") and k not in env]:
        del os.environ[key]
    logging.disable(logging.INFO)  # this process only: the servers log as configured
    print(f"database: {db_url}")
    try:
        yield env
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def load_beside_bare(env: dict, args, path: str, user: str | None) -> dict:
    """Serve the app and the bare page with gunicorn, then load the bare page and `path`
    (signed in as `user`, or anonymous) the same way; returns {name: figures}."""
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    app_proc = bare_proc = None
    try:
        app_port, bare_port = free_port(), free_port()
        app_proc = start_gunicorn("app:app", app_port, env, ROOT, args.workers)
        bare_proc = start_gunicorn("bare_app:app", bare_port, env, ROOT / "bench", args.workers)
        wait_until_up(app_port, "/healthz", app_proc)
        wait_until_up(bare_port, "/users", bare_proc)
        cookie = sign_in(app_port, user, "mktapp-demo-2026") if user else ""
        status, _, body = get(app_port, path, cookie)
        if status != 200 or 'name="password"' in body:
            raise SystemExit(f"{path} answers HTTP {status} to {user or 'a visitor'}")
        print(
            f"load: {'wrk' if use_wrk else 'python threads'}, {args.connections} connections, "
            f"{args.seconds:g} s per page, gunicorn {args.workers} sync workers, from 127.0.0.1"
        )
        return {
            "bare /users": measure(bare_port, "/users", "", args, use_wrk),
            f"app  {path}": measure(app_port, path, cookie, args, use_wrk),
        }
    finally:
        stop(app_proc)
        stop(bare_proc)


def print_load(results: dict) -> int:
    """The table of a load_beside_bare() run and the ratio app/bare; 1 if requests failed."""
    print()
    print(f"{'page':<30}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    for name, r in results.items():
        print(
            f"{name:<30}{r['rps']:>10.1f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
            f"{r['count']:>10}{r['errors']:>8}"
        )
    bare, app = list(results.values())
    ratio = app["rps"] / bare["rps"] if bare["rps"] else 0.0
    print(
        f"\nratio app/bare: {ratio:.2f} ({'meets' if ratio >= 0.5 else 'BELOW'} the target of 0.5)"
    )
    if bare["errors"] or app["errors"]:
        print("!! some requests failed; the figures are not valid")
        return 1
    return 0


# --- main ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--path", default="/org/users", help="app page to load (default /org/users)"
    )
    parser.add_argument("--users", type=int, default=10_000, help="users in the table (10000)")
    parser.add_argument("--user", default="manager", help="demo user to sign in as (manager)")
    parser.add_argument("--show-sql", action="store_true", help="print the app page's SQL")
    common_arguments(parser, seconds=15)
    args = parser.parse_args()

    with bench_environment("pages", args) as env:
        total, _ = fill_database(args.users)
        print(f"  {total} users")
        statements = count_statements(args.path, args.user, args.show_sql)
        results = load_beside_bare(env, args, args.path, args.user)
    failed = print_load(results)
    if statements is not None:
        print(f"SQL statements per request of {args.path}: {statements}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
