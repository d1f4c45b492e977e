"""Notifications: the list, the bell, mark read, e-mail by SMTP or to the log."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from mktapp.core import notify as notify_mod
from mktapp.core.notify import notify
from mktapp.extensions import db
from mktapp.models import Notification, User, utcnow


def _notify(app, user_id: int, title: str, url: str = "", body: str = "", age_minutes=0) -> int:
    with app.test_request_context():
        user = db.session.get(User, user_id)
        note = notify(user, title, body=body, url=url)
        note.created_at = utcnow() - timedelta(minutes=age_minutes)
        db.session.commit()
        return note.id


def _get(app, note_id: int) -> Notification:
    with app.app_context():
        note = db.session.get(Notification, note_id)
        db.session.expunge(note)
        return note


# --- the bell -----------------------------------------------------------------------


def test_bell_is_hidden_without_unread_notifications(login):
    response = login("sales1").get("/notifications/bell", htmx=True)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == '<span id="bell_count" class="badge" hidden></span>'


def test_bell_shows_the_unread_count(app, login, demo):
    for i in range(3):
        _notify(app, demo["sales1"], f"待办 {i}")
    _notify(app, demo["sales2"], "别人的")
    response = login("sales1").get("/notifications/bell", htmx=True)
    assert response.get_data(as_text=True) == '<span id="bell_count" class="badge">3</span>'


def test_layout_polls_the_bell(login):
    html = login("sales1").get("/").get_data(as_text=True)
    assert 'hx-get="/notifications/bell"' in html
    assert 'href="/notifications/"' in html  # the sidebar entry and the bell


def test_anonymous_cannot_read_the_bell(client):
    response = client.get("/notifications/bell")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- the list -------------------------------------------------------------------------


def test_list_shows_unread_first_then_newest(app, login, demo):
    old_unread = _notify(app, demo["sales1"], "旧的未读", age_minutes=120)
    new_read = _notify(app, demo["sales1"], "新的已读", age_minutes=1)
    new_unread = _notify(app, demo["sales1"], "新的未读", age_minutes=5)
    with app.app_context():
        db.session.get(Notification, new_read).read_at = utcnow()
        db.session.commit()
    html = login("sales1").get("/notifications/").get_data(as_text=True)
    assert html.index("新的未读") < html.index("旧的未读") < html.index("新的已读")
    assert old_unread and new_unread


def test_list_filters_unread_and_pages(app, login, demo, count_queries):
    client = login("sales1")
    _notify(app, demo["sales1"], "第一条")
    client.get("/notifications/")
    with count_queries() as few:
        client.get("/notifications/")
    for i in range(30):
        _notify(app, demo["sales1"], f"通知{i:02d}", age_minutes=i)
    with count_queries() as many:
        html = client.get("/notifications/").get_data(as_text=True)
    assert many.count == few.count
    assert html.count('class="notification unread"') == app.config["PAGE_SIZE"]
    assert "page=2" in html
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert second.count('<li class="notification') == 31 - app.config["PAGE_SIZE"]
    with app.app_context():
        for note in db.session.scalars(select(Notification).where(Notification.title != "第一条")):
            note.read_at = utcnow()
        db.session.commit()
    unread = client.get("/notifications/?unread=1").get_data(as_text=True)
    assert "第一条" in unread and "通知00" not in unread


def test_list_as_a_fragment_and_empty_state(login):
    client = login("sales2")
    fragment = client.get("/notifications/", htmx="notification_rows").get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="notification_rows"')
    assert 'class="empty"' in fragment


def test_a_user_sees_only_their_own_notifications(app, login, demo):
    _notify(app, demo["sales2"], "给业务员二的秘密")
    assert "给业务员二的秘密" not in login("sales1").get("/notifications/").get_data(as_text=True)


# --- mark read ---------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_record(app, login, demo):
    note_id = _notify(app, demo["sales1"], "请查看培训记录", url="/org/")
    client = login("sales1")
    response = client.post(f"/notifications/{note_id}/read")
    assert response.status_code == 303 and response.headers["Location"].endswith("/org/")
    assert _get(app, note_id).read_at is not None
    htmx = client.post(f"/notifications/{_notify(app, demo['sales1'], 'x')}/read", htmx=True)
    assert htmx.headers["HX-Redirect"] == "/notifications/"


def test_one_user_cannot_read_or_mark_anothers_notification(app, login, demo):
    note_id = _notify(app, demo["sales2"], "别人的通知", url="/org/")
    client = login("sales1")
    assert client.post(f"/notifications/{note_id}/read").status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    client.post("/notifications/read-all")
    assert _get(app, note_id).read_at is None
    # Even the manager cannot.
    assert login("manager").post(f"/notifications/{note_id}/read").status_code == 404


def test_mark_all_read_marks_only_ones_own(app, login, demo):
    mine = [_notify(app, demo["sales1"], f"我的{i}") for i in range(3)]
    theirs = _notify(app, demo["sales2"], "他的")
    client = login("sales1")
    response = client.post("/notifications/read-all")
    assert response.status_code == 303
    assert all(_get(app, n).read_at for n in mine)
    assert _get(app, theirs).read_at is None
    assert client.get("/notifications/bell").get_data(as_text=True).endswith("hidden></span>")


def test_marking_without_csrf_is_refused(app, login, demo):
    note_id = _notify(app, demo["sales1"], "x")
    client = login("sales1")
    assert client.post(f"/notifications/{note_id}/read", csrf=False).status_code == 400
    assert client.post("/notifications/read-all", csrf=False).status_code == 400
    assert _get(app, note_id).read_at is None


def test_anonymous_cannot_mark(app, client, demo):
    note_id = _notify(app, demo["sales1"], "x")
    response = client.post(f"/notifications/{note_id}/read")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- notify() and e-mail ------------------------------------------------------------------


def test_links_to_other_sites_are_dropped(app, demo):
    for bad in ("https://evil.example/x", "//evil.example", "javascript:alert(1)", "/\\evil"):
        assert _get(app, _notify(app, demo["sales1"], "x", url=bad)).url == ""
    assert _get(app, _notify(app, demo["sales1"], "x", url="/org/?a=1")).url == "/org/?a=1"


def test_without_smtp_the_email_is_written_to_the_log(app, demo, caplog):
    caplog.set_level(logging.INFO, logger="mktapp.notify")
    note_id = _notify(app, demo["sales1"], "合同待审批", body="请尽快处理", url="/org/")
    assert _get(app, note_id).emailed is True
    text = caplog.text
    assert "合同待审批" in text and "请尽快处理" in text and "/org/" in text
    assert "sales1@" in text or "@" in text


class FakeSMTP:
    sent: list = []
    fail = False

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port
        self.tls = False
        self.logged_in = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        self.tls = True

    def login(self, user, password):
        self.logged_in = user

    def send_message(self, message):
        if FakeSMTP.fail:
            raise OSError("connection refused")
        FakeSMTP.sent.append((self, message))


@pytest.fixture
def smtp(app, monkeypatch):
    monkeypatch.setattr(notify_mod.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    FakeSMTP.fail = False
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example.cn")
    monkeypatch.setitem(app.config, "SMTP_PORT", 587)
    monkeypatch.setitem(app.config, "SMTP_USER", "mktapp")
    monkeypatch.setitem(app.config, "SMTP_TLS", True)
    return FakeSMTP


def test_with_smtp_the_email_is_sent_after_the_commit_with_tls(app, demo, smtp):
    with app.test_request_context(base_url="http://crm.example.cn"):
        user = db.session.get(User, demo["sales1"])
        address = user.email
        notify(user, "新线索分配给您", body="客户：华东贸易", url="/org/")
        assert smtp.sent == []  # nothing before the commit
        db.session.commit()
    [(conn, message)] = smtp.sent
    assert conn.host == "mail.example.cn" and conn.tls and conn.logged_in == "mktapp"
    assert message["To"] == address and message["Subject"] == "新线索分配给您"
    assert "http://crm.example.cn/org/" in message.get_content()


def test_a_rolled_back_notification_sends_no_email(app, demo, smtp):
    with app.test_request_context():
        notify(db.session.get(User, demo["sales1"]), "不会发送")
        db.session.rollback()
        db.session.commit()
    assert smtp.sent == []


def test_a_failed_send_is_logged_not_raised(app, demo, smtp, caplog):
    smtp.fail = True
    note_id = _notify(app, demo["sales1"], "发送失败也没关系")
    assert _get(app, note_id).title == "发送失败也没关系"
    assert "failed" in caplog.text


def test_users_without_an_address_get_no_email(app, demo, smtp):
    with app.app_context():
        db.session.get(User, demo["sales1"]).email = ""
        db.session.commit()
    note_id = _notify(app, demo["sales1"], "仅站内")
    assert smtp.sent == [] and _get(app, note_id).emailed is False
