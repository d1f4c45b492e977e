"""The staff directory: search, filters, sort, paging, htmx fragment, fixed query count."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import Group, Post, Role, User


def names_in(html: str) -> list[str]:
    return re.findall(r'class="cell-name"><a href="/org/users/\d+">([^<]+)</a>', html)


def add_staff(app, n: int) -> None:
    """n more people spread over the groups, posts and roles (a fixed hash: no login)."""
    with app.app_context():
        groups = db.session.scalars(select(Group)).all()
        posts = db.session.scalars(select(Post)).all()
        roles = db.session.scalars(select(Role)).all()
        for i in range(n):
            db.session.add(
                User(
                    username=f"staff{i:03d}",
                    display_name=f"员工{i:03d}",
                    email=f"staff{i:03d}@example.cn",
                    phone=f"139-0000-{i:04d}",
                    password_hash="x",
                    active=i % 7 != 0,
                    group=groups[i % len(groups)],
                    post=posts[i % len(posts)],
                    roles=[roles[i % len(roles)], roles[(i + 2) % len(roles)]],
                )
            )
        db.session.commit()


def test_directory_lists_everyone_with_post_group_roles_and_contact(login):
    html = login("sales1").get("/org/users").get_data(as_text=True)
    for text in ("张伟", "sales1", "业务员", "业务组", "zhang.wei@example.cn", "138-0000-0021"):
        assert text in html
    assert "Sales rep" in html or "业务员" in html
    assert 'href="/org/users/' in html


def test_directory_search_finds_by_name_username_email_and_phone(login):
    c = login("sales1")
    assert names_in(c.get("/org/users?q=李晓").get_data(as_text=True)) == ["李晓梅"]
    assert names_in(c.get("/org/users?q=SALES3").get_data(as_text=True)) == ["陈静"]
    assert names_in(c.get("/org/users?q=zhou.min@").get_data(as_text=True)) == ["周敏"]
    assert names_in(c.get("/org/users?q=0000-0032").get_data(as_text=True)) == ["黄丽"]


def test_directory_search_treats_percent_and_underscore_literally(login):
    html = login("sales1").get("/org/users?q=%25").get_data(as_text=True)
    assert names_in(html) == []
    assert "No one matches" in html or "没有" in html


def test_directory_filters_by_group_role_and_status(app, login, demo):
    c = login("manager")
    with app.app_context():
        sales = db.session.scalar(select(Group).where(Group.code == "sales"))
        db.session.get(User, demo["sales2"]).active = False
        db.session.commit()
        sales_id = sales.id
    in_sales = names_in(c.get(f"/org/users?group={sales_id}").get_data(as_text=True))
    assert sorted(in_sales) == sorted(["张伟", "陈静"])
    everyone_in_sales = names_in(
        c.get(f"/org/users?group={sales_id}&status=all").get_data(as_text=True)
    )
    assert sorted(everyone_in_sales) == sorted(["张伟", "刘洋", "陈静"])
    assert names_in(c.get("/org/users?status=inactive").get_data(as_text=True)) == ["刘洋"]
    assert names_in(c.get("/org/users?role=finance").get_data(as_text=True)) == ["周敏"]
    no_group = names_in(c.get("/org/users?group=none").get_data(as_text=True))
    assert "王建国" in no_group and "张伟" not in no_group


def test_directory_ignores_nonsense_filters(login):
    c = login("sales1")
    for query in ("group=abc", "role=wizard", "status=maybe", "sort=password_hash", "page=-3"):
        response = c.get(f"/org/users?{query}")
        assert response.status_code == 200, query
        assert "张伟" in response.get_data(as_text=True)


def test_directory_sorts_by_column_with_aria_sort(login):
    c = login("sales1")
    asc = c.get("/org/users?sort=username").get_data(as_text=True)
    desc = c.get("/org/users?sort=username&dir=desc").get_data(as_text=True)
    assert names_in(asc) == list(reversed(names_in(desc)))
    assert names_in(asc)[0] == "系统管理员"  # admin < boss < finance1 ...
    assert 'aria-sort="ascending"' in asc and 'aria-sort="descending"' in desc
    # The header link flips the direction and keeps the filters.
    filtered = c.get("/org/users?q=sales&sort=username").get_data(as_text=True)
    assert "/org/users?q=sales&amp;sort=username&amp;dir=desc" in filtered


def test_directory_pages_without_javascript(app, login, monkeypatch):
    add_staff(app, 30)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 10)
    c = login("manager")
    first = c.get("/org/users?status=all&sort=username").get_data(as_text=True)
    second = c.get("/org/users?status=all&sort=username&page=2").get_data(as_text=True)
    assert len(names_in(first)) == 10 and len(names_in(second)) == 10
    assert not set(names_in(first)) & set(names_in(second))
    assert "of 41" in first or "41" in first
    assert 'rel="next"' in first and "page=2" in first
    assert 'aria-current="page"' in second
    # A GET form with a submit button drives search without JavaScript.
    assert '<form id="user_filters"' in first and 'method="get"' in first
    assert 'type="submit"' in first
    past_the_end = c.get("/org/users?page=99")
    assert past_the_end.status_code == 200
    assert names_in(past_the_end.get_data(as_text=True)) == []


def test_directory_search_is_htmx_debounced_and_returns_only_the_rows(login):
    c = login("sales1")
    page = c.get("/org/users").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-target="#user_rows"' in page
    assert '<div id="user_rows"' in page
    fragment = c.get("/org/users?q=陈", htmx="user_rows")
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<div id="user_rows"')
    assert "<html" not in html and "sidebar" not in html
    assert names_in(html) == ["陈静"]
    assert "HX-Request" in fragment.headers.get("Vary", "")
    tidy = c.get("/org/users?q=陈&group=&role=&status=active&sort=name&dir=asc", htmx="user_rows")
    assert tidy.headers["HX-Push-Url"] == "/org/users?q=%E9%99%88"


def test_directory_shows_a_clear_empty_state(login):
    html = login("sales1").get("/org/users?q=nobody-by-that-name").get_data(as_text=True)
    assert "No one matches" in html or "没有" in html
    assert "nobody-by-that-name" in html
    assert 'href="/org/users"' in html


@pytest.mark.parametrize("page_size", [10, 100])
def test_directory_runs_a_fixed_number_of_queries(
    app, login, count_queries, monkeypatch, page_size
):
    add_staff(app, 100)
    c = login("manager")
    monkeypatch.setitem(app.config, "PAGE_SIZE", page_size)
    counts = []
    for url in ("/org/users?status=all", "/org/users?status=all&sort=group&q=staff"):
        with count_queries() as q:
            response = c.get(url)
        assert response.status_code == 200
        assert len(names_in(response.get_data(as_text=True))) == page_size
        counts.append(q.count)
    assert max(counts) <= 6, counts


def test_directory_query_count_does_not_grow_with_page_size(app, login, count_queries, monkeypatch):
    add_staff(app, 100)
    c = login("manager")
    counts = {}
    for size in (10, 100):
        monkeypatch.setitem(app.config, "PAGE_SIZE", size)
        with count_queries() as q:
            response = c.get("/org/users?status=all&sort=post")
        assert len(names_in(response.get_data(as_text=True))) == size
        counts[size] = q.count
    assert counts[10] == counts[100] <= 6, counts


def test_admin_sees_user_administration_with_inactive_accounts_and_edit_links(app, login, demo):
    with app.app_context():
        db.session.get(User, demo["sales2"]).active = False
        db.session.commit()
    c = login("admin")
    html = c.get("/org/admin/users").get_data(as_text=True)
    assert "刘洋" in html  # inactive accounts show by default here
    assert f"/org/users/{demo['sales2']}/edit" in html
    assert 'href="/org/users/new"' in html
    layout = c.get("/").get_data(as_text=True)
    assert 'href="/org/admin/users"' in layout


def test_sales_rep_cannot_open_user_administration(login):
    c = login("sales1")
    assert c.get("/org/admin/users").status_code == 403
    html = c.get("/org/users").get_data(as_text=True)
    assert "/org/users/new" not in html and "/org/admin/users" not in html


def test_sidebar_has_the_organisation_entries(login):
    html = login("sales1").get("/org/users").get_data(as_text=True)
    for href in ('href="/org/"', 'href="/org/users"', 'href="/org/posts"'):
        assert href in html
