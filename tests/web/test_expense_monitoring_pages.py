"""Monitoring pages (P6.3): the report, the chart, anomalies and decisions, the export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.expense import monitoring
from mktapp.extensions import db
from mktapp.models import Notification, User
from mktapp.models.expense import ExpenseAnomaly, ExpenseClaim

YEAR = clock.today().year


def add_claims(app, n, amount="100", invoice_prefix="X", day=None):
    with app.app_context():
        owner = db.session.scalar(select(User.id).where(User.username == "sales1"))
        start = db.session.query(ExpenseClaim).count()
        for i in range(n):
            db.session.add(
                ExpenseClaim(
                    number=f"BX-W-{start + i:05d}",
                    category=("brand", "activity", "advertising")[i % 3],
                    reason="测试",
                    amount=Decimal(amount),
                    incurred_on=day or date(YEAR, 1 + i % 9, 1 + i % 27),
                    payment_method="bank",
                    invoice_number=f"{invoice_prefix}{start + i}",
                    status=("approved", "paid", "pending")[i % 3],
                    owner_id=owner,
                )
            )
        db.session.commit()


def test_monitoring_page_shows_table_chart_pace_and_rules(login, app):
    add_claims(app, 6)
    r = login("finance1").get(f"/expense/monitoring?year={YEAR}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart' in page and 'role="img"' in page
    assert "<title id=" in page and "<desc id=" in page
    assert 'class="pace-bar"' in page
    assert "style=" not in page.split("<main", 1)[1]
    assert "Actual = " in page or "实际支出 = " in page


def test_monitoring_opens_for_manager_and_executive(login):
    for name in ("manager", "boss"):
        assert login(name).get("/expense/monitoring").status_code == 200


def test_monitoring_page_runs_a_fixed_number_of_queries(login, app, count_queries):
    finance = login("finance1")
    add_claims(app, 5)
    finance.post("/expense/monitoring/scan", {"year": YEAR})
    finance.get("/expense/monitoring")
    with count_queries() as few:
        assert finance.get("/expense/monitoring").status_code == 200
    add_claims(app, 90, invoice_prefix="Y")
    finance.post("/expense/monitoring/scan", {"year": YEAR})  # stores any new findings once
    with count_queries() as many:
        assert finance.get("/expense/monitoring").status_code == 200
    assert few.count == many.count


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def test_opening_the_monitoring_page_writes_nothing(login, app):
    add_claims(app, 1, amount="900000", day=date(YEAR, 1, 2))  # an over-budget finding waits
    add_claims(app, 4, amount="100", invoice_prefix="DUP")
    finance, manager = login("finance1"), login("manager")
    before = row_counts(app)
    for url in (f"/expense/monitoring?year={YEAR}", "/expense/monitoring", "/expense/anomalies"):
        assert finance.get(url).status_code == 200
        assert manager.get(url).status_code == 200
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count(ExpenseAnomaly.id))) == 0


def test_scan_again_is_a_post_for_who_monitors(login, app):
    add_claims(app, 1, amount="900000", day=date(YEAR, 1, 2))
    assert login("sales1").post("/expense/monitoring/scan", {"year": YEAR}).status_code == 403
    finance = login("finance1")
    assert finance.get("/expense/monitoring/scan").status_code == 405
    response = finance.post("/expense/monitoring/scan", {"year": YEAR}, csrf=False)
    assert response.status_code == 400  # no CSRF token, nothing scanned
    with app.app_context():
        assert db.session.scalar(select(func.count(ExpenseAnomaly.id))) == 0
    response = finance.post("/expense/monitoring/scan", {"year": YEAR})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/expense/monitoring?year={YEAR}")
    page = finance.get(response.headers["Location"]).get_data(as_text=True)
    assert "new anomal" in page or "项新异常" in page
    assert 'action="/expense/monitoring/scan"' in page


def anomaly_notices(app, anomaly_id: int) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.url == f"/expense/anomalies/{anomaly_id}")
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_over_budget_is_found_notified_once_and_closed_by_the_manager(login, app):
    add_claims(app, 1, amount="900000", day=date(YEAR, 1, 2))
    finance = login("finance1")
    finance.post("/expense/monitoring/scan", {"year": YEAR})
    finance.post("/expense/monitoring/scan", {"year": YEAR})  # found once, told once
    page = finance.get(f"/expense/monitoring?year={YEAR}").get_data(as_text=True)
    with app.app_context():
        anomaly = db.session.scalar(
            select(ExpenseAnomaly).where(ExpenseAnomaly.kind == "over_budget")
        )
        anomaly_id = anomaly.id
        watchers = {u.id for u in monitoring.watchers()}
    assert f"/expense/anomalies/{anomaly_id}" in page
    notes = anomaly_notices(app, anomaly_id)
    assert sorted(n.user_id for n in notes) == sorted(watchers)  # one notice per watcher
    # The title says what and how much, the money formatted.
    assert notes[0].title.startswith("费用异常：") and "超预算 ¥" in notes[0].title
    assert all(n.read_at is None for n in notes)
    assert finance.get("/expense/anomalies").status_code == 200
    fragment = finance.get("/expense/anomalies?status=open", htmx="anomaly_rows").get_data(
        as_text=True
    )
    assert fragment.lstrip().startswith('<section id="anomaly_rows"') and "<html" not in fragment
    # Finance reads it but the manager decides.
    assert (
        finance.post(f"/expense/anomalies/{anomaly_id}/decide", {"decision": "x"}).status_code
        == 403
    )
    manager = login("manager")
    r = manager.post(f"/expense/anomalies/{anomaly_id}/decide", {"decision": " "})
    assert r.status_code == 422 and 'id="decision-error"' in r.get_data(as_text=True)
    r = manager.post(
        f"/expense/anomalies/{anomaly_id}/decide", {"decision": "已与申请人核实，调整一月预算"}
    )
    assert r.status_code == 303
    # Decided: its notices are done for everyone they reached.
    assert all(n.resolved_at and n.read_at for n in anomaly_notices(app, anomaly_id))
    closed = manager.get("/expense/anomalies?status=closed").get_data(as_text=True)
    assert "已与申请人核实" in closed
    assert manager.get("/expense/anomalies/99999").status_code == 404


def test_budget_report_exports_to_xlsx_with_typed_cells(login, app):
    from openpyxl import load_workbook

    add_claims(app, 3)
    r = login("finance1").get(f"/expense/monitoring.xlsx?year={YEAR}")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(BytesIO(r.data))
    detail = book.worksheets[1]
    assert detail.max_row == 1 + 7 * 12
    assert isinstance(detail["C2"].value, (int, float)) and "¥" in detail["C2"].number_format
    assert detail.freeze_panes == "A2" and detail["A1"].font.bold
    summary = book.worksheets[0]
    assert summary.max_row == 1 + 7 + 1


def test_expense_scan_command_finds_and_stores_once(app, demo):
    add_claims(app, 1, amount="900000", day=date(YEAR, 2, 2))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["expense-scan"])
    assert first.exit_code == 0 and "new anomalies" in first.output
    second = runner.invoke(args=["expense-scan"])
    assert f"{YEAR}: 0 new anomalies" in second.output
