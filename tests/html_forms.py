"""The forms of a page as a browser would send them (not a test module).

    forms = page_forms(html)           # [Form(action, method, fields, kinds)]
    form = form_for(html, "/sales/customers/new")
    client.post(form.action, data=form.fields)

`fields` holds what the browser would send untouched: each named input's value (checked
boxes and radios only), a textarea's text, a select's chosen option (else its first);
`kinds` the kind of each field (text, hidden, select, textarea, number, date ...),
`options` the values a select offers.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)  # a select's values
    multipart: bool = False


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(
                action=html_lib.unescape(a.get("action", "")),
                method=(a.get("method") or "get").lower(),
                multipart="multipart" in a.get("enctype", ""),
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or not a.get("name") or "disabled" in a:
            if tag == "option" and self._select is not None:
                self._option = a
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                form.kinds.setdefault(name, kind)
                return
            form.fields[name] = a.get("value", "on" if kind == "checkbox" else "")
            form.kinds[name] = kind
        elif tag == "textarea":
            self._textarea = name
            form.fields[name] = ""
            form.kinds[name] = "textarea"
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = name, None, False
            form.kinds[name] = "select"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "option":
            self.handle_endtag("option")

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value = self._option.get("value", "")
            if self._form is not None:
                self._form.options.setdefault(self._select, []).append(value)
            if self._select_first is None:
                self._select_first = value
            if "selected" in self._option and not self._select_chosen:
                self._select_chosen = True
                if self._form is not None:
                    self._form.fields[self._select] = value
            self._option = None
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._form is not None:
                self._form.fields[self._select] = self._select_first or ""
            self._select = None


def page_forms(page: str) -> list[Form]:
    parser = _Parser()
    parser.feed(page)
    return parser.forms


def form_for(page: str, action: str) -> Form:
    """The page's form that posts to `action` (the first of them)."""
    for form in page_forms(page):
        if form.action == action:
            return form
    raise AssertionError(f"no form posting to {action} on the page")
