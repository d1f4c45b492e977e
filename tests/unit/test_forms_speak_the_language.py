"""Every form says WTForms' own messages ("不能超过 120 个字符") in the user's language: it
is a FlaskForm, or a core.forms.RowForm (a FieldList row, a GET filter). A plain
wtforms.Form has no translations and would answer a Chinese user in English."""

from __future__ import annotations

import importlib
import pkgutil

from flask_wtf import FlaskForm
from wtforms import Form

import mktapp
from mktapp.core.forms import RowForm


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_form_of_the_app_is_translated(app):
    for info in pkgutil.walk_packages(mktapp.__path__, "mktapp."):
        importlib.import_module(info.name)
    ours = [c for c in _all_subclasses(Form) if c.__module__.startswith("mktapp.")]
    assert len(ours) > 40  # the walk found the chapters' forms
    plain = sorted(
        f"{c.__module__}.{c.__name__}" for c in ours if not issubclass(c, (FlaskForm, RowForm))
    )
    assert not plain, f"forms that would answer in English (use core.forms.RowForm): {plain}"


def test_a_row_form_answers_in_chinese(app):
    from wtforms import StringField
    from wtforms.validators import Length

    class Row(RowForm):
        name = StringField(validators=[Length(max=3)])

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from werkzeug.datastructures import MultiDict

        row = Row(MultiDict({"name": "四个字符"}))
        assert not row.validate()
        assert row.name.errors == ["字段长度不能超过 3 个字符。"]
