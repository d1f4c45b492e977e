"""The per-request translation cache (mktapp.core.i18n) obeys force_locale and refresh."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, gettext, lazy_gettext, refresh


def test_gettext_follows_force_locale_within_one_request(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert gettext("Directory") == "人员目录"
        assert render_template_string("{{ _('Directory') }}") == "人员目录"
        with force_locale("en"):
            assert render_template_string("{{ _('Directory') }}") == "Directory"
            assert gettext("Directory") == "Directory"
            assert str(lazy_gettext("Directory")) == "Directory"
        assert render_template_string("{{ _('Directory') }}") == "人员目录"
        assert gettext("Directory") == "人员目录"
        with force_locale("en"):
            assert gettext("Directory") == "Directory"
        assert gettext("Directory") == "人员目录"


def test_template_gettext_escapes_and_formats_like_jinja(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        html = render_template_string("{{ _('Page %(n)s', n='<b>') }}")
        assert html == "Page &lt;b&gt;"


def test_refresh_picks_the_locale_again(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}) as ctx:
        assert gettext("Directory") == "Directory"
        ctx.request.environ["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
        ctx.request.__dict__.pop("accept_languages", None)
        refresh()
        assert gettext("Directory") == "人员目录"
