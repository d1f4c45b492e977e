"""The working calendar's settings page (/settings/calendar): the administrator's weekly
hours, days off and 调休 make-up days, and a year filled from the statutory calendar."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import func, select

from mktapp.core import clock, workcal
from mktapp.extensions import db
from mktapp.models import AuditLog, CalendarDay, WorkHours

URL = "/settings/calendar/"
FAR_YEAR = 2030  # a year no demo or fixture fills


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)).where(*where))


def _week_data(week: dict[int, list[tuple[str, str]]], read: str = "") -> dict:
    data = {"read": read}
    for weekday in range(7):
        for k in (1, 2):
            data[f"days-{weekday}-start{k}"] = ""
            data[f"days-{weekday}-end{k}"] = ""
        for k, (start, end) in enumerate(week.get(weekday, []), start=1):
            data[f"days-{weekday}-start{k}"] = start
            data[f"days-{weekday}-end{k}"] = end
    return data


def test_the_administrator_sees_the_week_and_this_years_statutory_holidays(login):
    c = login("admin")
    year = clock.today().year
    page = c.get(f"{URL}?year={year}").get_data(as_text=True)
    assert "工作日历" in page and "工作时间" in page
    assert 'value="09:00"' in page and 'value="13:30"' in page and 'value="18:00"' in page
    first = workcal.statutory_days(year)[0]
    assert first.name in page and first.day.isoformat() in page
    assert 'href="/settings/calendar/"' in c.get("/").get_data(as_text=True)  # the sidebar


def test_someone_else_may_not_open_or_change_the_calendar(app, login):
    c = login("manager")
    assert c.get(URL).status_code == 403
    response = c.post(f"{URL}days", {"day": "2030-03-05", "kind": "off", "name": "x"})
    assert response.status_code == 403
    assert login("sales1").post(f"{URL}seed", {"year": "2030"}).status_code == 403
    assert _count(app, CalendarDay) == 0


def test_admin_adds_a_day_off_and_the_same_date_twice_is_refused(app, login):
    c = login("admin")
    data = {"day": f"{FAR_YEAR}-03-05", "kind": "off", "name": "公司年会"}
    response = c.post(f"{URL}days?year={FAR_YEAR}", data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{URL}?year={FAR_YEAR}")
    with app.app_context():
        day = db.session.scalar(select(CalendarDay).where(CalendarDay.day == date(FAR_YEAR, 3, 5)))
        assert (day.kind, day.name, day.source) == ("off", "公司年会", "manual")
        assert day.created_by.username == "admin"
        entry = db.session.scalar(
            select(AuditLog).where(
                AuditLog.record_type == "CalendarDay", AuditLog.record_id == day.id
            )
        )
        assert entry is not None and entry.action == "insert"
    # The year had no days: its statutory ones were saved with it.
    in_year = (CalendarDay.day >= date(FAR_YEAR, 1, 1), CalendarDay.day <= date(FAR_YEAR, 12, 31))
    total = _count(app, CalendarDay, *in_year)
    assert total == len(workcal.statutory_days(FAR_YEAR)) + 1
    page = c.get(f"{URL}?year={FAR_YEAR}").get_data(as_text=True)
    assert "公司年会" in page

    again = c.post(f"{URL}days?year={FAR_YEAR}", dict(data, kind="work", name="又一次"))
    assert again.status_code == 422
    text = again.get_data(as_text=True)
    assert f"{FAR_YEAR}-03-05" in text and "已在日历中" in text and 'aria-invalid="true"' in text
    assert _count(app, CalendarDay, CalendarDay.day == date(FAR_YEAR, 3, 5)) == 1
    assert _count(app, CalendarDay, *in_year) == total


def test_a_refused_day_comes_back_as_the_form_alone_for_htmx(app, login):
    c = login("admin")
    response = c.post(f"{URL}days", {"day": "", "kind": "off", "name": ""}, htmx=True)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<form id="day_form"') and "<html" not in text
    assert _count(app, CalendarDay) == 0


def test_admin_adds_a_make_up_working_day_and_removes_it(app, login):
    c = login("admin")
    saturday = date(FAR_YEAR, 6, 1)  # a Saturday
    assert saturday.weekday() == 5
    c.post(f"{URL}days", {"day": saturday.isoformat(), "kind": "work", "name": "调休上班"})
    with app.app_context():
        day_id = db.session.scalar(select(CalendarDay.id).where(CalendarDay.day == saturday))
    page = c.get(f"{URL}?year={FAR_YEAR}").get_data(as_text=True)
    assert f"{URL}days/{day_id}/remove" in page and "班" in page
    response = c.post(f"{URL}days/{day_id}/remove?year={FAR_YEAR}", {})
    assert response.status_code == 303
    assert _count(app, CalendarDay, CalendarDay.id == day_id) == 0
    assert c.post(f"{URL}days/{day_id}/remove", {}).status_code == 404


def test_seeding_a_year_twice_adds_nothing_the_second_time(app, login):
    c = login("admin")
    expected = len(workcal.statutory_days(FAR_YEAR))
    first = c.post(f"{URL}seed", {"year": str(FAR_YEAR)})
    assert first.status_code == 303
    in_year = (CalendarDay.day >= date(FAR_YEAR, 1, 1), CalendarDay.day <= date(FAR_YEAR, 12, 31))
    assert _count(app, CalendarDay, *in_year) == expected > 0
    second = c.post(f"{URL}seed", {"year": str(FAR_YEAR)})
    assert second.status_code == 303
    assert _count(app, CalendarDay, *in_year) == expected
    assert "已全部在日历中" in c.get(second.headers["Location"]).get_data(as_text=True)
    assert c.post(f"{URL}seed", {"year": "99999"}).status_code == 422


def test_the_week_form_refuses_bad_periods_at_their_field_and_writes_nothing(app, login):
    c = login("admin")
    backwards = _week_data({0: [("12:00", "09:00")], 1: [("09:00", "17:00")]})
    response = c.post(f"{URL}week", backwards)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="days-0-end1-error"' in text and "结束时间须晚于开始时间" in text

    overlapping = _week_data({2: [("09:00", "12:00"), ("11:30", "18:00")]})
    text = c.post(f"{URL}week", overlapping).get_data(as_text=True)
    assert 'id="days-2-start2-error"' in text

    half = _week_data({3: [("09:00", "")]})
    response = c.post(f"{URL}week", half)
    assert response.status_code == 422 and 'id="days-3-end1-error"' in response.get_data(
        as_text=True
    )

    assert c.post(f"{URL}week", _week_data({4: [("25:00", "26:00")]})).status_code == 422
    assert c.post(f"{URL}week", _week_data({})).status_code == 422  # no working time at all
    assert _count(app, WorkHours) == 0


def test_the_week_saved_is_the_week_shown_and_counted(app, login):
    c = login("admin")
    page = c.get(URL).get_data(as_text=True)
    read = page.split('name="read" type="hidden" value="')[1].split('"')[0]
    week = {d: [("08:30", "12:00"), ("13:00", "17:30")] for d in range(5)}
    week[5] = [("09:00", "12:00")]
    response = c.post(f"{URL}week", _week_data(week, read))
    assert response.status_code == 303
    assert _count(app, WorkHours) == 11
    assert 'value="08:30"' in c.get(URL).get_data(as_text=True)
    with app.test_request_context():
        saved = workcal.week_in_use()
        assert saved[5] == [(time(9, 0), time(12, 0))] and saved[6] == []
    # The same form sent from a page opened before the change: a conflict, not an overwrite.
    stale = c.post(f"{URL}week", _week_data({0: [("10:00", "11:00")]}, read))
    assert stale.status_code == 409
    assert _count(app, WorkHours) == 11


def test_the_seed_command_fills_a_year_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["calendar-seed", "--year", str(FAR_YEAR)])
    assert first.exit_code == 0, first.output
    assert f"{FAR_YEAR}: {len(workcal.statutory_days(FAR_YEAR))} days added" in first.output
    again = runner.invoke(args=["calendar-seed", "--year", str(FAR_YEAR)])
    assert f"{FAR_YEAR}: 0 days added" in again.output
    assert runner.invoke(args=["calendar-seed", "--year", "3000"]).exit_code != 0
