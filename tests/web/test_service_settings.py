"""The after-sales settings (issue 14 items 2 and 4): the service time limits per ticket
type and priority in working hours, where each ticket type goes, and the departments that
take tickets. For the administrator and the marketing manager only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import ServiceDepartment, SlaPolicy, TicketRoute, User
from mktapp.service import departments, sla
from tests.html_forms import form_for

SLA = "/service/settings/sla"
ROUTING = "/service/settings/routing"
DEPARTMENTS = "/service/settings/departments"
NEW_DEPARTMENT = "/service/settings/departments/new"


def error_at(page: str, field: str) -> str:
    """The message drawn under the input named `field` ("" when none)."""
    found = re.search(
        rf'<p class="error" id="{re.escape(field)}-error" role="alert">([^<]*)</p>', page
    )
    return found.group(1) if found else ""


def sla_rows(app) -> dict[tuple[str, str], tuple[int, int]]:
    with app.app_context():
        rows = {
            (r.ticket_type, r.priority): (r.response_minutes, r.resolution_minutes)
            for r in db.session.scalars(select(SlaPolicy))
        }
        db.session.remove()
    return rows


def sla_form(client, **cells) -> dict[str, str]:
    """The time-limit form as drawn, with `cells` typed over it ("repair-urgent-response")."""
    fields = form_for(client.get(SLA).get_data(as_text=True), SLA).fields
    fields.update({name.replace("__", "-"): value for name, value in cells.items()})
    return fields


def department_id(app, code_or_name: str) -> int:
    with app.app_context():
        found = db.session.scalar(
            select(ServiceDepartment.id).where(
                (ServiceDepartment.code == code_or_name) | (ServiceDepartment.name == code_or_name)
            )
        )
        db.session.remove()
    return found


def add_department(client, app, name="技术部", members=("sales2",), leader=None, demo=None):
    data = {
        "name": name,
        "description": "设备维修与安装",
        "member_ids": [str(demo[m]) for m in members],
    }
    if leader:
        data["leader_id"] = str(demo[leader])
    return client.post(NEW_DEPARTMENT, data)


# --- who may -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["admin", "manager"])
def test_the_administrator_and_the_manager_open_every_settings_page(app, login, username):
    client = login(username)
    client.get(DEPARTMENTS)
    landing = client.get("/service/settings")  # the sidebar's entry: the time limits
    assert landing.status_code == 200 and f'action="{SLA}"' in landing.get_data(as_text=True)
    for url in (SLA, ROUTING, DEPARTMENTS, NEW_DEPARTMENT):
        assert client.get(url).status_code == 200, url
    service = department_id(app, "service")
    page = client.get(f"/service/settings/departments/{service}/edit")
    assert page.status_code == 200
    assert 'name="_version"' in page.get_data(as_text=True)
    assert "售后设置" in client.get(DEPARTMENTS).get_data(as_text=True)  # the sidebar entry


@pytest.mark.parametrize("username", ["sales1", "service1"])
def test_a_sales_rep_and_a_service_agent_may_not_change_the_settings(app, login, username):
    client = login(username)
    for url in ("/service/settings", SLA, ROUTING, DEPARTMENTS, NEW_DEPARTMENT):
        assert client.get(url).status_code == 403, url
    assert client.post(SLA, {"repair-urgent-response": "1"}).status_code == 403
    assert client.post(NEW_DEPARTMENT, {"name": "技术部"}).status_code == 403
    assert "售后设置" not in client.get("/").get_data(as_text=True)


# --- the service time limits -------------------------------------------------------------


def test_the_time_limits_explain_working_hours_and_show_the_defaults(app, login):
    page = login("manager").get(SLA).get_data(as_text=True)
    fields = form_for(page, SLA).fields
    urgent, low = sla.DEFAULT_TARGETS["urgent"], sla.DEFAULT_TARGETS["low"]
    assert fields["repair-urgent-response"] == str(urgent[0] // 60)
    assert fields["complaint-low-resolution"] == str(low[1] // 60)
    assert "工作" in page and 'href="/settings/calendar' in page


def test_saving_valid_hours_stores_working_minutes(app, login):
    client = login("manager")
    response = client.post(
        SLA,
        sla_form(client, repair__urgent__response="0.5", repair__urgent__resolution="6.25"),
    )
    assert response.status_code == 303, error_at(response.get_data(as_text=True), "x")
    rows = sla_rows(app)
    assert rows[("repair", "urgent")] == (30, 375)
    assert rows[("consult", "low")] == sla.DEFAULT_TARGETS["low"]  # the rest as they were
    assert len(rows) == 20
    page = client.get(SLA).get_data(as_text=True)
    assert form_for(page, SLA).fields["repair-urgent-resolution"] == "6.25"
    with app.app_context():
        assert sla.targets("repair", "urgent") == (30, 375)


def test_a_response_longer_than_the_resolution_is_refused_at_that_input(app, login):
    client = login("manager")
    response = client.post(
        SLA, sla_form(client, repair__high__response="20", repair__high__resolution="10")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "首次响应" in error_at(page, "repair-high-response")
    assert error_at(page, "repair-high-resolution") == ""
    assert 'value="20"' in page  # what was typed is kept
    assert sla_rows(app) == {}  # nothing written


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("0", "above zero"),
        ("", "empty"),
        ("   ", "empty"),
        ("-2", "above zero"),
        ("abc", "not a number"),
        ("NaN", "not a number"),
        ("1441", "too long"),
        ("1e30", "too long"),
    ],
)
def test_a_time_limit_that_is_no_positive_number_of_hours_is_refused(app, login, typed, problem):
    client = login("manager")
    response = client.post(
        SLA,
        sla_form(client, complaint__medium__resolution=typed, consult__low__response="0.5"),
    )
    assert response.status_code == 422, problem
    page = response.get_data(as_text=True)
    assert error_at(page, "complaint-medium-resolution"), problem
    assert error_at(page, "consult-low-response") == ""
    assert sla_rows(app) == {}


def test_every_refusal_is_shown_at_once_each_at_its_input(app, login):
    client = login("manager")
    response = client.post(
        SLA,
        sla_form(
            client,
            consult__low__response="abc",
            repair__high__response="20",
            repair__high__resolution="10",
            dispute__urgent__resolution="0",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "小时数" in error_at(page, "consult-low-response")
    assert "首次响应" in error_at(page, "repair-high-response")
    assert "大于零" in error_at(page, "dispute-urgent-resolution")
    assert sla_rows(app) == {}


def test_a_save_over_someone_elses_limits_is_refused_once(app, login):
    first, second = login("manager"), login("admin")
    stale = sla_form(second, repair__urgent__response="2")
    assert first.post(SLA, sla_form(first, repair__urgent__response="1.5")).status_code == 303
    response = second.post(SLA, stale)
    assert response.status_code == 409
    assert sla_rows(app)[("repair", "urgent")][0] == 90
    again = form_for(response.get_data(as_text=True), SLA).fields
    assert again["repair-urgent-response"] == "2"
    assert second.post(SLA, again).status_code == 303  # on purpose now
    assert sla_rows(app)[("repair", "urgent")][0] == 120


# --- routing -----------------------------------------------------------------------------


def routing_form(client, **changes) -> dict[str, str]:
    fields = form_for(client.get(ROUTING).get_data(as_text=True), ROUTING).fields
    fields = {k: v for k, v in fields.items() if not k.endswith("-q")}
    fields.update({name.replace("__", "-"): value for name, value in changes.items()})
    return fields


def test_repairs_go_to_a_new_technical_department_and_its_default_owner(app, login, demo):
    client = login("manager")
    assert add_department(client, app, leader="sales3", demo=demo).status_code == 303
    tech = department_id(app, "技术部")
    response = client.post(
        ROUTING,
        routing_form(
            client, **{"repair-department_id": str(tech), "repair-owner_id": str(demo["sales2"])}
        ),
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        department, owner = departments.route_for("repair")
        assert (department.name, owner.username) == ("技术部", "sales2")
        assert departments.route_for("consult")[0].code == "service"  # the others unchanged
        assert db.session.scalar(select(db.func.count(TicketRoute.id))) == 1
        db.session.remove()
    page = client.get(ROUTING).get_data(as_text=True)
    fields = form_for(page, ROUTING).fields
    assert fields["repair-department_id"] == str(tech)
    assert fields["repair-owner_id"] == str(demo["sales2"])


def test_a_default_owner_outside_the_department_is_refused(app, login, demo):
    client = login("manager")
    add_department(client, app, demo=demo)
    tech = department_id(app, "技术部")
    response = client.post(
        ROUTING,
        routing_form(
            client, **{"repair-department_id": str(tech), "repair-owner_id": str(demo["market1"])}
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "部门" in error_at(page, "repair-owner_id")
    with app.app_context():
        assert db.session.scalar(select(db.func.count(TicketRoute.id))) == 0
        db.session.remove()


def test_choosing_a_department_offers_its_people_as_default_owners(app, login, demo):
    client = login("manager")
    add_department(client, app, leader="sales3", demo=demo)
    tech = department_id(app, "技术部")
    response = client.get(
        f"{ROUTING}?repair-department_id={tech}&repair-owner_id={demo['service1']}",
        htmx="routing_form",
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<form id="routing_form"')
    owners = re.search(r'<select id="repair-owner_id"[^>]*>(.*?)</select>', fragment, re.S).group(1)
    offered = set(re.findall(r'<option value="(\d+)"', owners))
    assert offered == {str(demo["sales3"]), str(demo["sales2"])}
    assert "selected" not in owners  # the service agent chosen before is no longer offered


def test_the_leader_is_the_default_owner_when_none_is_chosen(app, login, demo):
    client = login("admin")
    client.get(ROUTING)  # the first settings page makes the default departments
    service = department_id(app, "service")
    response = client.post(
        ROUTING,
        routing_form(client, **{"dispute-department_id": str(service), "dispute-owner_id": ""}),
    )
    assert response.status_code == 303
    with app.app_context():
        department, owner = departments.route_for("dispute")
        assert department.code == "service" and owner.username == "service1"
        db.session.remove()


# --- departments -------------------------------------------------------------------------


def test_the_manager_adds_a_technical_department_with_a_member(app, login, demo):
    client = login("manager")
    response = add_department(client, app, demo=demo)
    assert response.status_code == 303 and response.headers["Location"].endswith(DEPARTMENTS)
    with app.app_context():
        tech = db.session.scalar(
            select(ServiceDepartment).where(ServiceDepartment.name == "技术部")
        )
        assert [u.username for u in departments.people_of(tech)] == ["sales2"]
        assert tech.group_id is None and tech.archived_at is None
        db.session.remove()
    page = client.get(DEPARTMENTS).get_data(as_text=True)
    assert "技术部" in page and "客服组" in page


def test_a_second_department_of_the_same_name_is_refused(app, login, demo):
    client = login("manager")
    add_department(client, app, demo=demo)
    response = add_department(client, app, members=("market2",), demo=demo)
    assert response.status_code == 422
    assert "已有" in error_at(response.get_data(as_text=True), "name")
    with app.app_context():
        assert (
            len(
                db.session.scalars(
                    select(ServiceDepartment).where(ServiceDepartment.name == "技术部")
                ).all()
            )
            == 1
        )
        db.session.remove()


def test_the_service_group_cannot_be_archived(app, login):
    client = login("admin")
    client.get(DEPARTMENTS)
    service = department_id(app, "service")
    page = client.get(f"/service/settings/departments/{service}/edit").get_data(as_text=True)
    assert f"/service/settings/departments/{service}/archive" not in page  # no button
    response = client.post(f"/service/settings/departments/{service}/archive")
    assert response.status_code == 409
    assert "客服组和业务组" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ServiceDepartment, service).archived_at is None
        db.session.remove()


def test_archiving_a_department_sends_its_ticket_types_back(app, login, demo):
    client = login("manager")
    add_department(client, app, leader="sales3", demo=demo)
    tech = department_id(app, "技术部")
    client.post(ROUTING, routing_form(client, **{"repair-department_id": str(tech)}))
    edit = client.get(f"/service/settings/departments/{tech}/edit").get_data(as_text=True)
    assert f"/service/settings/departments/{tech}/archive" in edit
    response = client.post(f"/service/settings/departments/{tech}/archive")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ServiceDepartment, tech).archived_at is not None
        assert departments.route_for("repair")[0].code == "service"
        assert db.session.scalar(select(db.func.count(TicketRoute.id))) == 0
        db.session.remove()
    page = client.get(DEPARTMENTS).get_data(as_text=True)
    assert "已归档" in page and "技术部" in page.split("已归档", 1)[1]
    routing = client.get(ROUTING).get_data(as_text=True)
    assert f'<option value="{tech}"' not in routing
    assert client.post(f"/service/settings/departments/{tech}/archive").status_code == 409


def test_editing_a_department_changes_its_leader_and_people(app, login, demo):
    client = login("manager")
    add_department(client, app, demo=demo)
    tech = department_id(app, "技术部")
    url = f"/service/settings/departments/{tech}/edit"
    fields = form_for(client.get(url).get_data(as_text=True), url).fields
    fields = {k: v for k, v in fields.items() if not k.endswith("-q")}
    fields.update({"leader_id": str(demo["sales3"]), "member_ids": [str(demo["sales1"])]})
    assert client.post(url, fields).status_code == 303
    with app.app_context():
        tech_dept = db.session.get(ServiceDepartment, tech)
        assert tech_dept.leader.username == "sales3"
        people = {u.username for u in departments.people_of(tech_dept)}
        assert people == {"sales3", "sales1"}
        assert db.session.scalar(select(User.id).where(User.username == "sales2")) not in {
            u.id for u in tech_dept.members
        }
        db.session.remove()
