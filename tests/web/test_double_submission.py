"""The same form sent twice makes one record (core.actions: each form's one-time token).

The create forms are found by walking the app as each role (tests/web/crawler.py), not
listed by hand: every form on a page read whose action is a create route (an endpoint
named …new, …add or …create). Each is filled the way a hurried person would fill it,
sent, and sent again with the very same fields: the second sending writes nothing and
answers with the first one's page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.extensions import db
from tests.html_forms import Form, page_forms
from tests.web.crawler import crawl

CREATE = re.compile(r"(^|[._])(new|add|create)$")
TODAY = clock.today()  # the suite's frozen day: the dates typed follow it
LATER = TODAY + timedelta(days=30)
FILL = {
    "date": TODAY.isoformat(),
    "datetime-local": f"{TODAY.isoformat()}T10:00",
    "month": TODAY.strftime("%Y-%m"),
    "number": "2",
    "email": "shuangji@example.cn",
    "tel": "13800138000",
    "url": "https://example.cn",
}


def create_route(app: Flask, action: str) -> bool:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(action, method="POST")
    except Exception:  # noqa: BLE001  (not a route of the app, or not one that takes a POST)
        return False
    return bool(CREATE.search(endpoint))


BY_NAME = [  # what a field's name says it wants
    (re.compile(r"phone|mobile|tel"), "13800138000"),
    (re.compile(r"email"), "shuangji@example.cn"),
    (re.compile(r"url|website|link"), "https://example.cn"),
    (re.compile(r"amount|price|cost|budget|total|money|quantity|share"), "100"),
    (re.compile(r"^version$"), "9.9"),
    (re.compile(r"^period$|month"), TODAY.strftime("%Y-%m")),
    (re.compile(r"(^|_)(end|next|due|closes)"), LATER.isoformat()),
    (re.compile(r"(_on|_at|date)$"), TODAY.isoformat()),
]


def filled(form: Form, n: int, urls: list[str]) -> dict[str, str]:
    """The form as a hurried person sends it: what is there, the rest filled plausibly."""
    data = dict(form.fields)
    for name, kind in form.kinds.items():
        if name.startswith("_") or name == "csrf_token" or data.get(name, "").strip():
            continue
        short = name.rsplit("-", 1)[-1]
        if name == "confirm_duplicate":  # "save anyway" beside a likely duplicate
            data[name] = "1"
            continue
        if short == "q":
            continue  # a picker's text box: the id beside it says which
        if kind == "select":  # a row of a list takes the row's option: no two alike
            row = int(m.group(1)) if (m := re.search(r"-(\d+)-", name)) else 0
            choices = [v for v in form.options.get(name, []) if v.strip()]
            data[name] = choices[row % len(choices)] if choices else ""
            continue
        if short.endswith("_id"):  # a picker: a record of that kind the crawl saw
            kind_path = re.compile(rf"/{short[:-3]}(e?s)?/(\d+)(/|$)")
            data[name] = next((m.group(2) for u in urls if (m := kind_path.search(u))), "")
            data.pop(f"{name}-q", None)  # chosen from the list, not typed
            continue
        guess = next((value for pattern, value in BY_NAME if pattern.search(short)), None)
        if guess is not None and kind not in ("checkbox", "radio"):
            data[name] = guess if kind != "number" or guess.isdigit() else FILL["number"]
        elif kind in FILL:
            data[name] = FILL[kind]
        elif kind in ("text", "textarea", "search", ""):
            data[name] = f"双提交测试{n}"
        elif kind == "radio":
            data[name] = "1"
    return data


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        counts = {
            t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables
        }
        db.session.remove()
    for noise in ("form_submissions", "login_attempts", "data_versions", "user_sessions"):
        counts.pop(noise, None)
    return counts


@pytest.mark.parametrize("username", ["manager", "sales1"])  # their forms hold the others'
def test_every_create_form_sent_twice_makes_one_record(app, login, username):
    client = login(username)
    pages: dict[str, str] = {}
    crawl(client, on_page=lambda url, page: pages.setdefault(url, page))
    forms = {}
    for page in pages.values():
        for form in page_forms(page):
            if form.method == "post" and create_route(app, form.action):
                forms.setdefault(form.action, form)
    assert forms, "no create form found"
    without_token = [a for a, f in forms.items() if "_once" not in f.fields]
    assert not without_token, "create forms without a one-time token: " + ", ".join(without_token)

    made, problems = [], []
    for n, (action, form) in enumerate(sorted(forms.items())):
        data = filled(form, n, list(pages))
        before = table_counts(app)
        first = client.post(action, data=data)
        after_first = table_counts(app)
        if first.status_code >= 500:
            problems.append(f"{action}: {first.status_code} on the first sending")
            continue
        if after_first == before:
            continue  # the hurried filling was refused (422): nothing to send twice
        second = client.post(action, data=data)
        if second.status_code >= 500:
            problems.append(f"{action}: {second.status_code} on the second sending")
        elif table_counts(app) != after_first:
            problems.append(f"{action}: the second sending wrote again")
        elif (
            first.status_code in (302, 303)
            and second.headers.get("Location") != first.headers["Location"]
        ):
            problems.append(f"{action}: the second sending went elsewhere")
        made.append(action)
    assert not problems, "\n".join(problems)
    # The hurried filling gets most forms through; those it cannot are named here.
    unsent = sorted(set(forms) - set(made))
    assert len(made) >= 0.75 * len(forms), f"create forms never sent: {unsent}"
