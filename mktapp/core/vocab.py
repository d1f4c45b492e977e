"""Vocabularies: the words of a coded field (a status, a kind, a category), declared once.

    STATUSES = Vocabulary("contract_status", {"draft": _l("Draft"), "pending": _l("Under review")})
    STATUSES.label("draft")      # "草稿" (the code itself when unknown)
    STATUSES.tag("draft")        # <span class="tag status-draft">草稿</span>
    "draft" in STATUSES; STATUSES.items(); STATUSES.choices()   # a mapping, in order

A chapter's setup(app) exposes its vocabularies to the templates with expose(app, ...):
each gives `<name>_label(code)` and `<name>_tag(code)`, so no chapter writes a label
function or a context processor of its own, and every page shows the same word and the
same tag for a code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from markupsafe import Markup


class Vocabulary(Mapping):
    """The codes of one field with their (lazy) labels, in their order. `tag_class` is
    the class of a code's tag, "{code}" standing for the code (a status's colour)."""

    def __init__(self, name: str, terms: Mapping[str, Any], tag_class: str = "status-{code}"):
        self.name = name
        self._terms = dict(terms)
        self.tag_class = tag_class

    def __getitem__(self, code: str) -> Any:
        return self._terms[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def label(self, code: str | None) -> str:
        """The code's word in the current language; an unknown code shows as itself."""
        if code is None:
            return ""
        return str(self._terms.get(code, code))

    def tag(self, code: str | None, extra: str = "") -> Markup:
        """The code as a tag: <span class="tag status-<code>">label</span>."""
        classes = " ".join(c for c in ("tag", self.tag_class.format(code=code), extra) if c)
        return Markup('<span class="{}">{}</span>').format(classes, self.label(code))

    def choices(self) -> list[tuple[str, str]]:
        """(code, label) pairs for a select."""
        return [(code, str(label)) for code, label in self._terms.items()]


def expose(app, *vocabularies: Vocabulary) -> None:
    """Make each vocabulary's `<name>_label` and `<name>_tag` available to templates."""
    for vocabulary in vocabularies:
        app.jinja_env.globals[f"{vocabulary.name}_label"] = vocabulary.label
        app.jinja_env.globals[f"{vocabulary.name}_tag"] = vocabulary.tag
