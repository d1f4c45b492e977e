"""The org chart, profiles, posts and duties, group leadership."""

from __future__ import annotations

from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import AuditLog, Group, Post, User


def group_id(app, code):
    with app.app_context():
        return db.session.scalar(select(Group.id).where(Group.code == code))


def post_id(app, code):
    with app.app_context():
        return db.session.scalar(select(Post.id).where(Post.code == code))


def test_org_chart_shows_manager_groups_leaders_members_and_posts(login, demo):
    response = login("sales1").get("/org/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in (
        "王建国",
        "营销经理",
        "市场组",
        "业务组",
        "客服组",
        "李晓梅",
        "陈静",
        "杨帆",
        "黄丽",
    ):
        assert text in html
    # Everyone links to their profile and every post's duties can be opened.
    assert f'href="/org/users/{demo["sales3"]}"' in html
    assert '<details class="post-duties">' in html
    assert "全面负责营销部门的日常管理工作" in html
    # The manager comes before the groups; leaders are marked.
    assert html.index("王建国") < html.index("市场组")
    assert html.count('class="org-leader"') == 3
    # The system administrator keeps the system, not the department.
    assert f'href="/org/users/{demo["admin"]}"' not in html


def test_org_chart_leaves_out_inactive_people(app, login, demo):
    with app.app_context():
        db.session.get(User, demo["market2"]).active = False
        db.session.commit()
    assert "赵磊" not in login("manager").get("/org/").get_data(as_text=True)


def test_profile_shows_contact_post_duties_group_leader_roles_and_joined_date(login, demo):
    html = login("sales1").get(f"/org/users/{demo['sales2']}").get_data(as_text=True)
    for text in (
        "刘洋",
        "sales2",
        "liu.yang@example.cn",
        "138-0000-0022",
        "业务员",
        "负责客户开发与销售业务拓展",
        "业务组",
        "陈静",  # the group's leader
        "2024-03-01",
    ):
        assert text in html, text
    assert "Sales rep" in html or "业务员" in html
    # An ordinary colleague sees no administration buttons.
    assert "/edit" not in html and "/deactivate" not in html


def test_my_profile_is_linked_from_the_user_menu(login, demo):
    html = login("market1").get("/").get_data(as_text=True)
    assert f'href="/org/users/{demo["market1"]}"' in html


def test_leader_profile_lists_the_team(login, demo):
    html = login("sales1").get(f"/org/users/{demo['sales3']}").get_data(as_text=True)
    assert "张伟" in html and "刘洋" in html


def test_admin_sees_actions_on_a_profile(login, demo):
    html = login("admin").get(f"/org/users/{demo['sales2']}").get_data(as_text=True)
    for url in ("edit", "reset-password", "handover", "deactivate"):
        assert f"/org/users/{demo['sales2']}/{url}" in html


def test_unknown_profile_is_404(login):
    c = login("sales1")
    assert c.get("/org/users/424242").status_code == 404


def test_posts_page_lists_duties_and_holders(login, demo):
    html = login("sales1").get("/org/posts").get_data(as_text=True)
    for text in ("营销经理", "市场专员", "业务员", "客服人员", "开展市场调研", "张伟", "刘洋"):
        assert text in html
    assert "/edit" not in html  # a sales rep may not edit posts


def test_manager_edits_a_posts_duties_one_per_line(app, login):
    c = login("manager")
    pid = post_id(app, "service_agent")
    assert c.get(f"/org/posts/{pid}/edit").status_code == 200
    response = c.post(
        f"/org/posts/{pid}/edit",
        {"name": "客服专员", "duties": "接听客户来电。\n\n  处理客户投诉。  \n"},
    )
    assert response.status_code == 303
    with app.app_context():
        post = db.session.get(Post, pid)
        assert post.name == "客服专员"
        assert post.duty_lines == ["接听客户来电。", "处理客户投诉。"]
        assert (
            db.session.scalar(
                select(func.count(AuditLog.id)).where(
                    AuditLog.record_type == "Post",
                    AuditLog.record_id == pid,
                    AuditLog.action == "update",
                )
            )
            == 1
        )
    profile = c.get("/org/posts").get_data(as_text=True)
    assert "处理客户投诉。" in profile


def test_bad_post_input_is_422_next_to_the_field(app, login):
    c = login("admin")
    pid = post_id(app, "sales_rep")
    for data, field in (
        ({"name": "", "duties": "x"}, "name"),
        ({"name": "岗" * 81, "duties": "x"}, "name"),
        ({"name": "业务员", "duties": "  \n "}, "duties"),
    ):
        response = c.post(f"/org/posts/{pid}/edit", data)
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    htmx = c.post(f"/org/posts/{pid}/edit", {"name": "", "duties": "x"}, htmx=True)
    assert htmx.get_data(as_text=True).lstrip().startswith('<form id="post_form"')
    with app.app_context():
        assert db.session.get(Post, pid).name == "业务员"


def test_post_edit_is_forbidden_to_sales_and_404_for_unknown(app, login):
    pid = post_id(app, "sales_rep")
    assert login("sales1").get(f"/org/posts/{pid}/edit").status_code == 403
    assert (
        login("sales1").post(f"/org/posts/{pid}/edit", {"name": "x", "duties": "y"}).status_code
        == 403
    )
    assert login("manager").get("/org/posts/9999/edit").status_code == 404
    response = login("manager").post(
        f"/org/posts/{pid}/edit", {"name": "x", "duties": "y"}, csrf=False
    )
    assert response.status_code == 400


def test_group_leader_is_chosen_among_active_members(app, login, demo):
    c = login("manager")  # posts.edit is enough for group leadership
    gid = group_id(app, "sales")
    page = c.get(f"/org/groups/{gid}/edit").get_data(as_text=True)
    assert "张伟" in page and "李晓梅" not in page  # only members are offered
    ok = c.post(
        f"/org/groups/{gid}/edit",
        {"name": "业务组", "description": "客户开发", "leader_id": demo["sales1"]},
    )
    assert ok.status_code == 303
    with app.app_context():
        assert db.session.get(Group, gid).leader_id == demo["sales1"]
    for leader, field in ((demo["market1"], "leader_id"), (9999, "leader_id"), ("x", "leader_id")):
        response = c.post(
            f"/org/groups/{gid}/edit", {"name": "业务组", "description": "", "leader_id": leader}
        )
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    empty = c.post(f"/org/groups/{gid}/edit", {"name": "", "leader_id": "0"})
    assert empty.status_code == 422 and 'id="name-error"' in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Group, gid).leader_id == demo["sales1"]
    assert c.get("/org/groups/9999/edit").status_code == 404
    assert login("sales3").get(f"/org/groups/{gid}/edit").status_code == 403


def test_moving_a_leader_to_another_group_clears_the_old_leadership(app, login, demo):
    c = login("admin")
    market = group_id(app, "market")
    response = c.post(
        f"/org/users/{demo['sales3']}/edit",
        {
            "display_name": "陈静",
            "roles": ["sales_rep"],
            "group_id": market,
            "post_id": "0",
            "active": "y",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Group, group_id(app, "sales")).leader_id is None
