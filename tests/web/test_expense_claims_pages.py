"""Expense claims through the browser's eyes: the form's bad input, who sees and pays what,
the htmx fragments, the list's totals and export, the claim form PDF."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.expense import claims as svc
from mktapp.extensions import db
from mktapp.models import Attachment, ExpenseClaim, User

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _no_demo_budgets(app, demo):
    """These tests set up the budgets they need; the demo's own would change the sums."""
    from sqlalchemy import delete

    from mktapp.models import Budget, BudgetAdjustment, BudgetLine

    with app.app_context():
        for model in (BudgetAdjustment, BudgetLine, Budget):
            db.session.execute(delete(model))
        db.session.commit()


def today():
    return clock.today()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 30)).save(out, format="PNG")
    return out.getvalue()


def docx() -> bytes:
    out = io.BytesIO()
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/word/document.xml" ContentType="{main}"/></Types>',
        )
        z.writestr("word/document.xml", "<doc/>")
    return out.getvalue()


def good(**change):
    values = {
        "category": "customer",
        "amount": "320.00",
        "incurred_on": today().isoformat(),
        "payment_method": "bank",
        "reason": "客户商务宴请餐费",
        "payee_account": "招商银行 6225 0000 1234 张伟",
        "invoice_number": "2631088001",
        "over_budget_reason": "本月客户集中拜访",
        "action": "draft",
    }
    values.update(change)
    return values


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ExpenseClaim.id)))


def make_claim(app, owner: str, status: str = "draft", **change) -> int:
    """A claim by `owner`, moved through the engine to `status` (draft/pending/approved/paid)."""
    with app.test_request_context():
        person = db.session.scalar(select(User).where(User.username == owner))
        data = svc.ClaimInput(
            category=change.get("category", "customer"),
            amount=Decimal(change.get("amount", "320.00")),
            incurred_on=change.get("incurred_on", today()),
            reason=change.get("reason", "客户商务宴请餐费"),
            payment_method="bank",
            invoice_number=change.get("invoice_number", "2631088001"),
            over_budget_reason="本月客户集中拜访",
        )
        if data.amount > 500:
            from werkzeug.datastructures import FileStorage

            data.receipts = [FileStorage(io.BytesIO(png()), filename="发票.png", name="receipt")]
        claim = svc.create_claim(person, data, today())
        if status != "draft":
            svc.submit_claim(person, claim, today())
        if status in ("approved", "paid"):
            for _ in range(3):
                step = engine.pending_step(engine.current_request(claim))
                who = (
                    db.session.get(User, step.assignee_user_id)
                    if step.assignee_user_id
                    else db.session.scalar(
                        select(User).where(
                            User.username
                            == {"finance": "finance1", "executive": "boss"}[step.assignee_role]
                        )
                    )
                )
                engine.approve(step.id, who)
        if status == "paid":
            finance = db.session.scalar(select(User).where(User.username == "finance1"))
            svc.record_payment(finance, claim, today(), "ZF0001", today())
        db.session.commit()
        return claim.id


# --- the form -----------------------------------------------------------------------


def test_sales_rep_saves_a_draft_and_submits_it(app, login, demo):
    c = login("sales1")
    response = c.post("/expense/claims/new", good())
    assert response.status_code == 303
    with app.app_context():
        claim = db.session.scalar(select(ExpenseClaim))
        assert claim.status == "draft" and claim.owner_id == demo["sales1"]
        assert claim.number.startswith(f"BX-{today().year}-")
        claim_id = claim.id
    assert c.post(f"/expense/claims/{claim_id}/submit").status_code == 303
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).status == "pending"
    page = c.get(f"/expense/claims/{claim_id}", headers=EN).get_data(as_text=True)
    assert "Under review" in page and "叁佰贰拾元整" in page


def test_submit_button_on_the_form_sends_it_for_approval(app, login):
    response = login("sales1").post("/expense/claims/new", good(action="submit"), htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"]
    with app.app_context():
        assert db.session.scalar(select(ExpenseClaim.status)) == "pending"


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"amount": "0"}, "amount", "more than zero"),
        ({"amount": "-12.50"}, "amount", "more than zero"),
        ({"amount": "12.345"}, "amount", "two decimals"),
        ({"amount": "1000000000000"}, "amount", "less than"),
        ({"amount": "NaN"}, "amount", "like 1234.50"),
        ({"amount": "Infinity"}, "amount", "like 1234.50"),
        ({"amount": "十元"}, "amount", "like 1234.50"),
        ({"amount": ""}, "amount", "Enter the amount"),
        ({"incurred_on": "2099-01-01"}, "incurred_on", "future"),
        ({"incurred_on": "2026-02-30"}, "incurred_on", "real date"),
        ({"category": "travel"}, "category", "category from the list"),
        ({"category": ""}, "category", "category from the list"),
        ({"payment_method": "barter"}, "payment_method", "payment method"),
        ({"reason": ""}, "reason", "spent on"),
        ({"reason": "很" * 2001}, "reason", "2000"),
        ({"amount": "800.00"}, "receipt", "need a receipt"),
    ],
)
def test_bad_claim_input_is_refused_next_to_its_field(app, login, change, field, message):
    c = login("sales1")
    response = c.post("/expense/claims/new", good(**change), htmx=True, headers=EN)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error" role="alert">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html[:3000]
    assert 'aria-invalid="true"' in html
    assert count(app) == 0


def test_over_budget_claim_without_a_reason_is_refused_and_hard_stop_refuses_all(app, login):
    c = login("sales1")
    response = c.post("/expense/claims/new", good(over_budget_reason=""), headers=EN)
    assert response.status_code == 422
    assert 'id="over_budget_reason-error"' in response.get_data(as_text=True)
    with app.app_context():
        from mktapp.core import settings

        settings.set_value("expense.hard_stop_over_budget", "1")
        db.session.commit()
    response = c.post("/expense/claims/new", good(), headers=EN)
    assert response.status_code == 422
    assert "Claims over budget are not accepted" in response.get_data(as_text=True)
    assert count(app) == 0


def test_receipt_must_be_a_pdf_or_a_picture(app, login):
    c = login("sales1")
    upload = {"receipt": (io.BytesIO(docx()), "发票.docx")}
    response = c.post(
        "/expense/claims/new",
        {**good(amount="800.00"), **upload},
        headers=EN,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="receipt-error"' in html and "Office documents are not accepted" in html
    assert count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 0
    upload = {"receipt": (io.BytesIO(png()), "发票.png")}
    response = c.post(
        "/expense/claims/new",
        {**good(amount="800.00"), **upload},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with app.app_context():
        [stored] = db.session.scalars(select(Attachment)).all()
        assert stored.record_type == "ExpenseClaim" and stored.content_type == "image/png"


def test_receipts_cannot_come_through_the_general_upload(app, login):
    claim_id = make_claim(app, "sales1")
    response = login("sales1").post(
        f"/attachments/ExpenseClaim/{claim_id}",
        {"file": (io.BytesIO(docx()), "x.docx")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (403, 404)
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_editing_an_approved_claim_is_refused_and_nothing_changes(app, login):
    claim_id = make_claim(app, "sales1", "approved")
    c = login("sales1")
    page = c.get(f"/expense/claims/{claim_id}/edit", headers=EN)
    assert page.status_code == 422 and "cannot be changed" in page.get_data(as_text=True)
    response = c.post(f"/expense/claims/{claim_id}/edit", good(amount="1.00"), headers=EN)
    assert response.status_code == 422
    assert "has been approved and cannot be changed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).amount == Decimal("320.00")


def test_editing_a_pending_claim_is_refused(app, login):
    claim_id = make_claim(app, "sales1", "pending")
    response = login("sales1").post(
        f"/expense/claims/{claim_id}/edit", good(amount="1.00"), headers=EN
    )
    assert response.status_code == 422 and "Withdraw it first" in response.get_data(as_text=True)


def test_returned_claim_is_edited_and_resubmitted(app, login, demo):
    claim_id = make_claim(app, "sales1", "pending")
    with app.test_request_context():
        claim = db.session.get(ExpenseClaim, claim_id)
        step = engine.pending_step(engine.current_request(claim))
        engine.reject(step.id, db.session.get(User, demo["sales3"]), "请补充发票")
        db.session.commit()
    c = login("sales1")
    response = c.post(f"/expense/claims/{claim_id}/edit", good(amount="330.00", action="submit"))
    assert response.status_code == 303
    with app.app_context():
        claim = db.session.get(ExpenseClaim, claim_id)
        assert claim.status == "pending" and claim.amount == Decimal("330.00")
        assert [r.round for r in engine.requests_for(claim)] == [1, 2]


def test_someone_else_cannot_edit_submit_or_archive(app, login):
    claim_id = make_claim(app, "sales1")
    leader = login("sales3")  # sees the group's claims, may not change them
    assert leader.get(f"/expense/claims/{claim_id}").status_code == 200
    assert leader.get(f"/expense/claims/{claim_id}/edit").status_code == 403
    assert leader.post(f"/expense/claims/{claim_id}/submit").status_code == 403
    assert leader.post(f"/expense/claims/{claim_id}/archive").status_code == 403
    with app.app_context():
        claim = db.session.get(ExpenseClaim, claim_id)
        assert claim.status == "draft" and claim.archived_at is None


def test_owner_archives_a_draft(app, login):
    claim_id = make_claim(app, "sales1")
    assert login("sales1").post(f"/expense/claims/{claim_id}/archive").status_code == 303
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).archived_at is not None


# --- payment ----------------------------------------------------------------------------


def test_finance_records_the_payment(app, login):
    claim_id = make_claim(app, "sales1", "approved")
    c = login("finance1")
    bad = c.post(
        f"/expense/claims/{claim_id}/pay",
        {"paid_on": today().isoformat(), "reference": ""},
        htmx=True,
    )
    assert bad.status_code == 422 and 'id="reference-error"' in bad.get_data(as_text=True)
    future = (today() + timedelta(days=3)).isoformat()
    bad = c.post(f"/expense/claims/{claim_id}/pay", {"paid_on": future, "reference": "ZF1"})
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).status == "approved"
    ok = c.post(
        f"/expense/claims/{claim_id}/pay", {"paid_on": today().isoformat(), "reference": "ZF77"}
    )
    assert ok.status_code == 303
    with app.app_context():
        claim = db.session.get(ExpenseClaim, claim_id)
        assert claim.status == "paid" and claim.payment_reference == "ZF77"


@pytest.mark.parametrize("username", ["sales1", "sales3", "manager", "boss"])
def test_only_finance_pays(app, login, username):
    claim_id = make_claim(app, "sales1", "approved")
    response = login(username).post(
        f"/expense/claims/{claim_id}/pay", {"paid_on": today().isoformat(), "reference": "ZF1"}
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).status == "approved"


def test_finance_cannot_pay_a_claim_under_review(app, login):
    claim_id = make_claim(app, "sales1", "pending")
    response = login("finance1").post(
        f"/expense/claims/{claim_id}/pay", {"paid_on": today().isoformat(), "reference": "ZF1"}
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(ExpenseClaim, claim_id).status == "pending"


# --- who sees what -------------------------------------------------------------------------


def test_unknown_claim_is_404(login):
    c = login("finance1")
    for url in ("/expense/claims/9999", "/expense/claims/9999/edit", "/expense/claims/9999.pdf"):
        assert c.get(url).status_code == 404
    assert c.post("/expense/claims/9999/pay", {"reference": "x"}).status_code == 404


def test_other_reps_claim_is_404(app, login):
    claim_id = make_claim(app, "sales1", "pending")
    for username in ("sales2", "market1", "admin"):
        c = login(username)
        assert c.get(f"/expense/claims/{claim_id}").status_code == 404
        assert c.get(f"/expense/claims/{claim_id}.pdf").status_code == 404
        assert c.post(f"/expense/claims/{claim_id}/submit").status_code == 404
    for username in ("sales3", "manager", "finance1", "boss"):
        assert login(username).get(f"/expense/claims/{claim_id}").status_code == 200


def test_missing_csrf_token_is_400(app, login):
    c = login("sales1")
    response = c.post("/expense/claims/new", good(), csrf=False)
    assert response.status_code == 400
    claim_id = make_claim(app, "sales1")
    assert c.post(f"/expense/claims/{claim_id}/submit", csrf=False).status_code == 400
    assert count(app) == 1


# --- htmx fragments, lists ------------------------------------------------------------------


def test_budget_box_fragment_shows_what_remains(app, login):
    with app.app_context():
        from mktapp.models import Budget, BudgetLine

        budget = Budget(year=today().year, title="预算", status="approved")
        budget.lines.append(BudgetLine(category="customer", month=today().month, amount=1000))
        db.session.add(budget)
        db.session.commit()
    make_claim(app, "sales2", "pending", amount="300.00")
    c = login("sales1")
    url = f"/expense/claims/budget?category=customer&incurred_on={today()}&amount=800"
    response = c.get(url, htmx="claim_budget", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="claim_budget"')
    assert "¥1,000.00" in html and "¥300.00" in html and "¥700.00" in html
    assert "-¥100.00" in html and "exceeds what remains by ¥100.00" in html
    empty = c.get("/expense/claims/budget?category=&incurred_on=", htmx=True, headers=EN)
    assert "Choose a category and a date" in empty.get_data(as_text=True)


def test_list_filters_and_totals_and_htmx_fragment(app, login):
    make_claim(app, "sales1", "pending", amount="100.00", reason="拜访苏州客户")
    make_claim(app, "sales2", "paid", amount="250.50", category="other", reason="样品快递费")
    make_claim(app, "market2", "draft", amount="400.00", category="research")  # drafts listed too
    c = login("finance1")
    page = c.get("/expense/claims", headers=EN).get_data(as_text=True)
    assert "¥750.50" in page and "3</span>" in page
    fragment = c.get("/expense/claims?status=paid", htmx="claim_rows", headers=EN)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="claim_rows"')
    assert "样品快递费" in html and "拜访苏州客户" not in html and "¥250.50" in html
    assert fragment.headers["HX-Push-Url"].endswith("/expense/claims?status=paid")
    searched = c.get("/expense/claims?q=快递", headers=EN).get_data(as_text=True)
    assert "样品快递费" in searched and "拜访苏州客户" not in searched
    mine = login("sales1").get("/expense/claims/mine").get_data(as_text=True)
    assert "拜访苏州客户" in mine and "样品快递费" not in mine


def test_list_query_count_does_not_grow_with_rows(app, login, count_queries):
    c = login("finance1")
    make_claim(app, "sales1")
    c.get("/expense/claims")
    make_claim(app, "sales2")  # a change: the rows are rendered anew, not taken from memory
    with count_queries() as few:
        assert c.get("/expense/claims?sort=applicant").status_code == 200
    for owner in ("sales2", "market1", "market2", "service1", "service2", "sales3") * 3:
        make_claim(app, owner)
    with count_queries() as many:
        assert c.get("/expense/claims?sort=applicant").status_code == 200
    assert many.count == few.count, many.statements


def test_claims_export_is_a_typed_workbook_of_the_filtered_list(app, login):
    from openpyxl import load_workbook

    make_claim(app, "sales1", "paid", amount="1234.50", reason="客户商务宴请餐费")
    make_claim(app, "sales2", "draft", amount="99.00", reason="快递费")
    response = login("finance1").get("/expense/claims.xlsx?status=paid")
    assert response.status_code == 200
    assert "spreadsheetml" in response.mimetype
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3  # header, one claim, total
    amount = sheet.cell(row=2, column=6)
    assert amount.value == 1234.5 and "¥" in amount.number_format
    assert sheet.cell(row=2, column=7).is_date
    assert rows[2][5] == 1234.5


def test_claim_form_pdf_shows_number_capitals_and_approvers(app, login):
    claim_id = make_claim(app, "sales1", "paid", amount="1234.50")
    response = login("sales1").get(f"/expense/claims/{claim_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.data, capture_output=True, check=True
    ).stdout.decode()
    with app.app_context():
        number = db.session.get(ExpenseClaim, claim_id).number
    assert number in text
    assert "壹仟贰佰叁拾肆元伍角" in text
    for name in ("陈静", "周敏", "孙志强", "张伟"):  # head, finance, leader, applicant
        assert name in text
    assert "ZF0001" in text
    assert re.search(r"第\s*1\s*页", text) or "Page 1 of" in text


def test_sidebar_shows_claims_to_staff_not_to_the_administrator(login):
    page = login("sales1").get("/expense/claims/mine", headers=EN).get_data(as_text=True)
    assert "Expense claims" in page and "My claims" in page
    admin = login("admin")
    assert "/expense/claims" not in admin.get("/", headers=EN).get_data(as_text=True)
    assert admin.get("/expense/claims/new").status_code == 403
