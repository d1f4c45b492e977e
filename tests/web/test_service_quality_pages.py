"""The service quality page (P5.4, P5.5): figures, charts, the below-standard list, the
improvement form (leader and manager only), the actions list and the xlsx export."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import ServiceImprovement
from mktapp.service import departments as depts
from mktapp.service import quality as svc
from tests.unit.test_service_quality import build


@pytest.fixture
def data(app, demo):
    with app.app_context():
        built = build()
        depts.ensure_departments()
        db.session.commit()
        period = built["period"]
        return {
            "a": built["a"].id,
            "b": built["b"].id,
            "s2": built["s2"].id,
            "from": svc.month_key(period.first),
            "to": svc.month_key(period.last),
        }


def _url(data, path="/service/quality", **extra):
    query = "&".join(
        f"{k}={v}" for k, v in {"from": data["from"], "to": data["to"], **extra}.items()
    )
    return f"{path}?{query}"


def test_manager_sees_the_figures_charts_and_who_is_below_the_standard(login, data):
    page = login("manager").get(_url(data))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "服务质量" in html
    assert "66.7%" in html and "60.0%" in html  # on-time response and resolution
    assert "质量甲部" in html and "质量乙部" in html
    assert html.count("<svg") >= 3
    assert "未达标" in html
    assert "登记整改措施" in html  # the manager may record an action
    assert 'id="improvement_form"' in html
    assert "¥350.00" in html  # the period's service cost


def test_one_department_and_the_sidebar_entry(login, data):
    client = login("service2")
    html = client.get(_url(data, department=data["b"])).get_data(as_text=True)
    assert "质量乙部" in html
    assert 'href="/service/quality"' in html  # the sidebar entry
    assert 'id="improvement_form"' not in html  # not the group's leader


def test_sales_rep_may_not_open_the_quality_page_or_its_export(login, data):
    client = login("sales1")
    assert client.get("/service/quality").status_code == 403
    assert client.get("/service/quality.xlsx").status_code == 403
    assert 'href="/service/quality"' not in client.get("/").get_data(as_text=True)


def test_export_has_every_breakdown(login, data):
    response = login("manager").get(_url(data, path="/service/quality.xlsx"))
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    assert len(book.sheetnames) == 7
    by_department = book.worksheets[1]
    labels = [row[0] for row in by_department.iter_rows(min_row=2, values_only=True)]
    assert {"质量甲部", "质量乙部"} <= set(labels)
    months = book.worksheets[4]
    assert months.max_row == 4  # header + three months


def test_improvement_form_refuses_a_past_due_date_next_to_the_field(login, data):
    client = login("service1")  # leads the service group
    yesterday = clock.today() - timedelta(days=1)
    response = client.post(
        _url(data, path="/service/quality/improvements"),
        data={
            "subject": f"department:{data['b']}",
            "figure": "resolution",
            "action": "每周复盘超时工单。",
            "owner_id": data["s2"],
            "due_on": yesterday.isoformat(),
        },
        htmx=True,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="improvement_form"')
    assert "到期日不能早于今天" in html
    with client.application.app_context():
        assert db.session.scalar(select(ServiceImprovement.id)) is None


def test_improvement_form_saves_a_valid_action_shown_in_the_list(login, data):
    client = login("service1")
    response = client.post(
        _url(data, path="/service/quality/improvements"),
        data={
            "subject": f"department:{data['b']}",
            "figure": "resolution",
            "action": "每周复盘超时工单。",
            "owner_id": data["s2"],
            "due_on": clock.today().isoformat(),
        },
    )
    assert response.status_code in (302, 303)
    with client.application.app_context():
        action = db.session.scalar(select(ServiceImprovement))
        assert action.value_then == 50 and action.owner_id == data["s2"]
        action_id = action.id
    html = client.get(_url(data)).get_data(as_text=True)
    assert "每周复盘超时工单。" in html and "50.0%" in html
    # The person carrying it out marks it done; a note is needed.
    owner = login("service2")
    done = f"/service/quality/improvements/{action_id}/done"
    assert owner.post(done, data={"note": ""}).status_code == 422
    assert owner.post(done, data={"note": "已完成复盘。"}).status_code in (302, 303)
    with client.application.app_context():
        assert db.session.get(ServiceImprovement, action_id).status == "done"


def test_only_the_leader_or_the_manager_records_an_action(login, data):
    response = login("service2").post(
        _url(data, path="/service/quality/improvements"),
        data={
            "subject": f"department:{data['b']}",
            "figure": "resolution",
            "action": "改进",
            "owner_id": data["s2"],
            "due_on": clock.today().isoformat(),
        },
    )
    assert response.status_code == 403
