"""Brand strategy services (P3.1): colour codes, versions never overwritten, the
comparison, and visual-identity files grouped by name into versions."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from mktapp.brand import strategy as svc
from mktapp.extensions import db
from mktapp.models import User


def _user(name):
    return db.session.query(User).filter_by(username=name).one()


def _input(**override) -> svc.StrategyInput:
    data = svc.StrategyInput(
        positioning="定位",
        slogan="口号",
        colours="#0B5CAD 品牌蓝，#fa3 橙",
        change_note="说明",
        channels=[svc.ChannelInput("展会", "经销商", "名片 200 张"), svc.ChannelInput()],
    )
    for key, value in override.items():
        setattr(data, key, value)
    return data


def _png(colour="#0b5cad"):
    out = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(out, "PNG")
    out.seek(0)
    return FileStorage(stream=out, filename="logo.png")


def test_colours_are_parsed_normalised_and_bad_codes_refused():
    colours = svc.parse_colours("#0B5CAD 品牌蓝，#fa3 橙; #1f2933")
    assert [(c.hex, c.name) for c in colours] == [
        ("#0b5cad", "品牌蓝"),
        ("#ffaa33", "橙"),
        ("#1f2933", ""),
    ]
    for bad in ("0b5cad 蓝", "#0b5cag 蓝", "#12345", "red"):
        with pytest.raises(svc.StrategyError) as error:
            svc.parse_colours(bad)
        assert error.value.field == "colours"


def test_each_save_is_a_new_version_and_blank_channels_are_left_out(app_ctx, demo):
    manager = _user("manager")
    first = svc.save_version(manager, _input())
    second = svc.save_version(manager, _input(slogan="新口号"))
    assert second.version == first.version + 1
    assert first.slogan == "口号" and svc.current().id == second.id
    assert [c.name for c in second.channels] == ["展会"]
    assert first.colours == "#0b5cad 品牌蓝,#ffaa33 橙"


@pytest.mark.parametrize(
    "override, field",
    [
        ({"positioning": " "}, "positioning"),
        ({"change_note": ""}, "change_note"),
        ({"colours": "#zzz 蓝"}, "colours"),
        ({"channels": [svc.ChannelInput("", "有受众", "")]}, "channels"),
        ({"logo_attachment_id": 99999}, "logo_attachment_id"),
    ],
)
def test_bad_input_raises_with_the_field(app_ctx, demo, override, field):
    before = svc.version_numbers()
    with pytest.raises(svc.StrategyError) as error:
        svc.save_version(_user("manager"), _input(**override))
    assert error.value.field == field
    assert svc.version_numbers() == before


def test_only_the_manager_may_write(app_ctx, demo):
    with pytest.raises(svc.StrategyError):
        svc.save_version(_user("market1"), _input())
    with pytest.raises(svc.StrategyError):
        svc.add_file(_user("sales1"), _png())


def test_compare_marks_changed_fields_and_channel_differences(app_ctx, demo):
    manager = _user("manager")
    a = svc.save_version(manager, _input())
    b = svc.save_version(
        manager,
        _input(
            slogan="新口号",
            channels=[
                svc.ChannelInput("展会", "经销商", "名片 300 张"),
                svc.ChannelInput("抖音", "年轻人", ""),
            ],
        ),
    )
    result = svc.compare(a, b)
    changed = {f.name for f in result.fields if f.changed}
    assert changed == {"slogan"}
    kinds = {c.name: c.kind for c in result.channels}
    assert kinds == {"展会": "changed", "抖音": "added"}
    back = svc.compare(b, a)
    assert {c.name: c.kind for c in back.channels} == {"展会": "changed", "抖音": "removed"}
    assert result.changed_count == 3


def test_files_are_grouped_by_name_newest_first_and_the_logo_follows(app_ctx, demo):
    manager = _user("manager")
    svc.save_version(manager, _input())
    first = svc.add_file(manager, _png())
    db.session.flush()
    strategy = svc.save_version(manager, _input(logo_attachment_id=first.id))
    second = svc.add_file(manager, _png("#f5a623"))
    other = FileStorage(stream=io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename="VI手册.pdf")
    svc.add_file(manager, other)
    db.session.flush()
    groups = {f.name: f for f in svc.files()}
    assert [a.id for a in groups["logo.png"].versions] == [second.id, first.id]
    assert groups["logo.png"].is_image and not groups["VI手册.pdf"].is_image
    assert svc.logo_of(strategy).id == second.id
    assert [a.id for a in svc.logo_choices()] == [second.id]
    svc.archive_file(manager, first.id)
    db.session.flush()
    assert "logo.png" not in {f.name for f in svc.files()}
    assert svc.logo_of(strategy) is None
