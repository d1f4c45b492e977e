"""Vocabularies (core/vocab.py): a coded field's words declared once give its label, its
tag and its choices, in its order, to Python and to every template alike."""

from __future__ import annotations

import re
from pathlib import Path

from flask import render_template_string
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from mktapp.core.vocab import Vocabulary, expose

STATES = Vocabulary("sample_status", {"draft": _l("Draft"), "approved": _l("Approved")})
KINDS = Vocabulary("sample_kind", {"a": "甲", "b": "乙"}, tag_class="kind-{code}")


def test_a_vocabulary_is_a_mapping_in_its_order_with_labels_in_the_current_language(app):
    assert list(STATES) == ["draft", "approved"] and "draft" in STATES and len(STATES) == 2
    with app.test_request_context(), force_locale("zh_Hans"):
        assert STATES.label("approved") == "已批准"
        assert STATES.choices() == [("draft", "草稿"), ("approved", "已批准")]
    with app.test_request_context(), force_locale("en"):
        assert STATES.label("approved") == "Approved"
    assert STATES.label("lost") == "lost" and STATES.label(None) == ""


def test_a_tag_carries_the_codes_class_and_escapes_its_label(app):
    with app.test_request_context(), force_locale("en"):
        assert STATES.tag("draft") == '<span class="tag status-draft">Draft</span>'
        assert KINDS.tag("a", "tag-muted") == '<span class="tag kind-a tag-muted">甲</span>'
    plain = Vocabulary("sample_x", {"x": "<b>"}, tag_class="")
    assert plain.tag("x") == '<span class="tag">&lt;b&gt;</span>'


def test_exposed_vocabularies_give_every_template_their_label_and_tag(app):
    expose(app, STATES, KINDS)
    with app.test_request_context(), force_locale("en"):
        html = render_template_string(
            "{{ sample_status_tag('approved') }} {{ sample_kind_label('b') }}"
        )
    assert html == '<span class="tag status-approved">Approved</span> 乙'


def test_no_template_draws_a_status_tag_by_hand():
    """`<vocabulary>_tag(code)` draws a status tag; one typed into a template could show
    another word or colour than the rest of the app for the same code."""
    root = Path(__file__).resolve().parents[2] / "templates"
    typed = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r'class="tag status-\{\{', line)
    ]
    assert not typed, typed
