"""The page parts every page is built of (templates/_macros/page.html): head, breadcrumb,
empty state and list filters render the markup the CSS and the tests of each page expect."""

from __future__ import annotations

from pathlib import Path

from flask import render_template_string

IMPORT = '{% from "_macros/page.html" import page_head, breadcrumb, empty_state, select_filter, check_filter %}'


def _render(app, source: str, **context) -> str:
    with app.test_request_context():
        return " ".join(render_template_string(IMPORT + source, **context).split())


def test_page_head_has_the_title_the_line_under_it_and_the_actions(app):
    html = _render(
        app,
        '{% call page_head("计划", "说明", badges=tag) %}<a href="/n">新建</a>{% endcall %}',
        tag='<span class="tag">草稿</span>',
    )
    assert "<h1>计划 &lt;span" in html  # badges are text unless marked safe
    html = _render(app, '{{ page_head("计划") }}')
    assert html == '<div class="page-head"> <div> <h1>计划</h1> </div> </div>'
    html = _render(app, '{% call page_head("计划", "说明") %}<a href="/n">新建</a>{% endcall %}')
    assert (
        '<p class="muted">说明</p>' in html
        and '<div class="actions"><a href="/n">新建</a></div>' in html
    )


def test_breadcrumb_links_all_but_the_last_crumb(app):
    html = _render(app, '{{ breadcrumb(("客户", "/c"), ("华东", "/c/1"), ("合并", none)) }}')
    assert html.endswith('><a href="/c">客户</a> / <a href="/c/1">华东</a> / 合并</nav>')


def test_breadcrumb_leaves_out_a_crumb_that_is_none(app):
    html = _render(app, '{{ breadcrumb(("用户管理", "/u"), none, ("新建用户", none)) }}')
    assert html.endswith('><a href="/u">用户管理</a> / 新建用户</nav>')


def test_no_template_writes_its_own_breadcrumb():
    """One separator and one markup: every breadcrumb comes from the macro."""
    root = Path(__file__).resolve().parents[2] / "templates"
    hand_made = [
        str(p.relative_to(root))
        for p in root.rglob("*.html")
        if "_macros" not in p.parts and 'class="breadcrumb"' in p.read_text()
    ]
    assert hand_made == []


def test_empty_state_offers_the_whole_list_when_filters_find_nothing(app):
    args = '"没有匹配", "/p", "显示全部", "还没有计划"'
    filtered = _render(app, "{{ empty_state(true, " + args + ") }}")
    assert "没有匹配" in filtered and 'href="/p">显示全部' in filtered and "还没有" not in filtered
    empty = _render(app, "{% call empty_state(false, " + args + ") %}<p>先建一个</p>{% endcall %}")
    assert "<strong>还没有计划</strong></p><p>先建一个</p>" in empty.replace("> <", "><")


def test_filters_reload_the_rows_and_keep_the_current_choice(app):
    html = _render(
        app,
        '{{ select_filter("status", "状态", {"draft": "草稿", "pending": "审批中"}, "pending",'
        ' "全部", "/p", "rows", "filters") }}'
        '{{ check_filter("archived", "已归档", true, "/p", "rows", "filters") }}',
    )
    assert '<select id="f-status" name="status" hx-get="/p"' in html
    assert 'hx-target="#rows" hx-include="#filters"' in html
    assert '<option value="pending" selected>审批中</option>' in html
    assert '<option value="draft">草稿</option>' in html
    assert 'id="f-archived" name="archived" value="1" checked' in html
