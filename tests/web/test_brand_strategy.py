"""Brand strategy pages (P3.1): the current version, a new version on every save, the
history, the comparison, the visual-identity files with their versions, who may write."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import Attachment, BrandChannel, BrandStrategy


def _png(colour: str = "#0b5cad") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


def _count(app, model=BrandStrategy) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _edit_data(**override) -> dict:
    data = {
        "positioning": "华东中小企业智能办公的首选伙伴",
        "audiences": "行政与 IT 负责人",
        "value_proposition": "一站式服务",
        "slogan": "让办公更聪明",
        "colours": "#0b5cad 品牌蓝, #f5a623 活力橙",
        "image_notes": "统一使用 VI 模板",
        "logo_attachment_id": "0",
        "channels-0-name": "微信公众号",
        "channels-0-audience": "现有客户",
        "channels-0-effect": "月阅读 3 万",
        "channels-1-name": "",
        "channels-1-audience": "",
        "channels-1-effect": "",
        "change_note": "调整口号",
    }
    data.update(override)
    return data


def test_everyone_with_brand_view_reads_the_current_version(login):
    page = login("sales1").get("/brand/strategy")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "智联办公，值得信赖" in text  # version 2's slogan
    assert "抖音企业号" in text and "行业展会" in text
    assert 'fill="#0b5cad"' in text and "style=" not in text.split("<main")[1]
    assert "/brand/strategy/edit" not in text  # a sales rep may not change it


def test_sidebar_links_the_strategy_page(login):
    text = login("service1").get("/brand/strategy").get_data(as_text=True)
    assert 'href="/brand/strategy"' in text


def test_user_without_brand_view_is_refused(login):
    assert login("admin").get("/brand/strategy").status_code == 403


def test_earlier_version_is_shown_by_number_and_unknown_one_is_404(login):
    client = login("market1")
    text = client.get("/brand/strategy?version=1").get_data(as_text=True)
    assert "智能办公，稳如磐石" in text and "抖音企业号" not in text
    assert client.get("/brand/strategy?version=99").status_code == 404
    assert client.get("/brand/strategy?version=x").status_code == 404


def test_edit_form_is_prefilled_from_the_current_version(login):
    text = login("manager").get("/brand/strategy/edit").get_data(as_text=True)
    assert "智联办公，值得信赖" in text and "抖音企业号" in text
    assert 'name="change_note"' in text and "channels-4-name" in text  # a blank row to add one


def test_saving_makes_a_new_version_and_keeps_the_old_one(app, login):
    client = login("manager")
    response = client.post("/brand/strategy/edit", data=_edit_data())
    assert response.status_code == 303
    with app.app_context():
        versions = db.session.scalars(select(BrandStrategy).order_by(BrandStrategy.version)).all()
        assert [v.version for v in versions] == [1, 2, 3]
        assert versions[1].slogan == "智联办公，值得信赖"  # untouched
        latest = versions[2]
        assert latest.slogan == "让办公更聪明" and latest.change_note == "调整口号"
        assert latest.colours == "#0b5cad 品牌蓝,#f5a623 活力橙"
        assert [c.name for c in latest.channels] == ["微信公众号"]  # the blank row left out
    text = client.get("/brand/strategy").get_data(as_text=True)
    assert "让办公更聪明" in text


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_stored(app, login):
    client = login("manager")
    before = (_count(app), _count(app, BrandChannel))
    for override, field in (
        ({"positioning": "  "}, "positioning"),
        ({"colours": "#12345 蓝色"}, "colours"),
        ({"colours": "blue 蓝色"}, "colours"),
        ({"change_note": ""}, "change_note"),
    ):
        response = client.post("/brand/strategy/edit", data=_edit_data(**override))
        assert response.status_code == 422, override
        text = response.get_data(as_text=True)
        assert f'id="{field}-error"' in text, override
    assert (_count(app), _count(app, BrandChannel)) == before


def test_a_bad_channel_row_is_marked_at_its_row_without_raw_text(app, login):
    before = (_count(app), _count(app, BrandChannel))
    response = login("manager").post(
        "/brand/strategy/edit", data=_edit_data(**{"channels-1-name": "渠" * 121})
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="channels-1-name-error"' in text
    assert "不能超过 120 个字符" in text and "{}" not in text and "{'" not in text
    assert (_count(app), _count(app, BrandChannel)) == before


def test_bad_input_by_htmx_answers_the_form_alone(app, login):
    response = login("manager").post(
        "/brand/strategy/edit", data=_edit_data(change_note=""), htmx=True
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in text and 'id="strategy_form"' in text


def test_channel_rows_are_added_and_removed_without_saving(app, login):
    client = login("manager")
    before = _count(app)
    added = client.post("/brand/strategy/edit", data=_edit_data(action="add_channel"))
    assert added.status_code == 200 and "channels-2-name" in added.get_data(as_text=True)
    removed = client.post("/brand/strategy/edit", data=_edit_data(action="remove_channel-0"))
    text = removed.get_data(as_text=True)
    assert removed.status_code == 200 and 'value="微信公众号"' not in text
    assert _count(app) == before


def test_sales_rep_and_specialist_may_not_post_an_edit(app, login):
    before = _count(app)
    assert login("sales1").post("/brand/strategy/edit", data=_edit_data()).status_code == 403
    assert login("market1").get("/brand/strategy/edit").status_code == 403
    assert _count(app) == before


def test_history_lists_versions_with_search_sort_and_fragment(login):
    client = login("market1")
    text = client.get("/brand/strategy/versions").get_data(as_text=True)
    assert text.index("根据下半年客户调研") < text.index("首版品牌策略")
    ascending = client.get("/brand/strategy/versions?sort=version").get_data(as_text=True)
    assert ascending.index("首版品牌策略") < ascending.index("根据下半年客户调研")
    fragment = client.get("/brand/strategy/versions?q=首版", htmx="version_rows")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "首版品牌策略" in body and "根据下半年客户调研" not in body
    empty = client.get("/brand/strategy/versions?q=没有这个").get_data(as_text=True)
    assert "empty-state" in empty


def test_compare_highlights_the_changed_fields_and_the_added_channel(login):
    client = login("boss")
    text = client.get("/brand/strategy/compare?a=1&b=2").get_data(as_text=True)
    assert "智能办公，稳如磐石" in text and "智联办公，值得信赖" in text
    assert text.count('class="is-changed"') >= 3  # slogan, change note, the new channel
    assert "抖音企业号" in text
    assert client.get("/brand/strategy/compare?a=1&b=9").status_code == 404


def _upload(client, name, content, htmx=False):
    return client.post(
        "/brand/strategy/files",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        htmx=htmx,
    )


def test_files_keep_versions_by_name_and_download_is_checked(app, login):
    manager = login("manager")
    assert _upload(manager, "logo.png", _png("#0b5cad")).status_code == 303
    response = _upload(manager, "logo.png", _png("#f5a623"), htmx=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text and 'id="strategy_files"' in text
    assert "logo.png" in text and "details" in text  # earlier versions listed
    with app.app_context():
        ids = db.session.scalars(
            select(Attachment.id)
            .where(Attachment.record_type == "BrandStrategy")
            .order_by(Attachment.id)
        ).all()
    assert len(ids) == 2
    # The sales rep reads the strategy and may download its files, but not upload.
    rep = login("sales1")
    assert rep.get(f"/attachments/{ids[1]}").status_code == 200
    assert _upload(rep, "x.png", _png()).status_code == 403
    assert login("admin").get(f"/attachments/{ids[1]}").status_code == 404


def test_a_file_that_is_not_allowed_is_refused_next_to_the_field(app, login):
    response = _upload(login("manager"), "logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    assert _count(app, Attachment) == 0


def test_logo_is_chosen_in_a_new_version_and_shown(app, login):
    manager = login("manager")
    _upload(manager, "logo.png", _png())
    with app.app_context():
        logo_id = db.session.scalar(select(Attachment.id))
    form = manager.get("/brand/strategy/edit").get_data(as_text=True)
    assert f'value="{logo_id}"' in form
    assert (
        manager.post(
            "/brand/strategy/edit", data=_edit_data(logo_attachment_id=str(logo_id))
        ).status_code
        == 303
    )
    # A new version of the logo file is what the page shows.
    _upload(manager, "logo.png", _png("#f5a623"))
    with app.app_context():
        newest = db.session.scalar(select(func.max(Attachment.id)))
    text = manager.get("/brand/strategy").get_data(as_text=True)
    assert f'src="/attachments/{newest}"' in text


def test_archived_file_leaves_the_list_but_is_kept(app, login):
    manager = login("manager")
    _upload(manager, "vi.png", _png())
    _upload(manager, "vi.png", _png("#ffffff"))
    with app.app_context():
        newest = db.session.scalar(select(func.max(Attachment.id)))
    response = manager.post(f"/brand/strategy/files/{newest}/archive", htmx=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="attachment-name">vi.png' not in text
    with app.app_context():
        rows = db.session.scalars(select(Attachment)).all()
        assert len(rows) == 2 and all(a.archived_at is not None for a in rows)
    assert login("sales1").post(f"/brand/strategy/files/{newest}/archive").status_code == 403
