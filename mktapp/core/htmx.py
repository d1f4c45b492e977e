"""The one place that reads HX-* headers, and the one way to render a page or a fragment.

A page template holds its fragments as named blocks. render() returns the
named block to an htmx request that targets it and the whole page to
everything else (plain browsers, boosted navigation, history restore).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, get_flashed_messages, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """An htmx request that wants a fragment (not boosted navigation or history restore)."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def hx_target() -> str | None:
    return request.headers.get("HX-Target") if is_htmx() else None


def _toasts_html() -> str:
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return ""
    return render_template("_macros/toasts.html", messages=messages, oob=True)


def render(
    template: str,
    block: str | None = None,
    status: int = 200,
    fragment: Any = None,
    push_url: str | None = None,
    **context: Any,
) -> Response:
    """Render the whole page, or only `block` for an htmx fragment request.

    `fragment`, when given, is `block` already rendered (core/fragments.py): it is the
    whole answer to a fragment request, and the page's block shows it as it is.
    Flash messages ride along with fragments as out-of-band toasts, so a
    message set by an htmx action is not lost until the next full page.
    `push_url`: for a fragment request, the address the browser's bar then shows (a
    list's tidy address, without empty filters).
    """
    if block and is_partial():
        html = fragment if fragment is not None else render_block(template, block, **context)
        html = html + _toasts_html()
    else:
        html = render_template(template, fragment=fragment, **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    if push_url and block and is_partial():
        response.headers["HX-Push-Url"] = push_url
    return response


def _hx_redirect(url: str) -> Response:
    """Tell htmx to have the browser load `url` itself (a full load, not a swap)."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response


def redirect_to(url: str) -> Response:
    """Redirect a plain request with 303, an htmx request with HX-Redirect (a full load)."""
    if is_htmx() and not request.headers.get("HX-Boosted") == "true":
        return _hx_redirect(url)
    return redirect(url, code=303)


# What a page never shows inside itself: documents and downloads.
FILE_TYPES = frozenset(
    {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
        "application/octet-stream",
        "text/csv",
    }
)


def files_leave_htmx(response: Response) -> Response:
    """A file is never swapped into a page. When an htmx request (a link in the boosted
    body, a button) gets a file back, the answer tells the browser to load the address
    itself (HX-Redirect), and the plain request that follows shows or saves the file.

    Registered for every response (init_app), so no link needs hx-boost="false".
    """
    if request.method != "GET" or not is_htmx() or not 200 <= response.status_code < 300:
        return response
    disposition = response.headers.get("Content-Disposition", "")
    if response.mimetype not in FILE_TYPES and not disposition.startswith("attachment"):
        return response
    return _load_it_yourself()


def _load_it_yourself() -> Response:
    out = _hx_redirect(request.full_path.rstrip("?"))
    out.vary.add("HX-Request")
    out.headers["Cache-Control"] = "no-store"
    return out


FILE_SUFFIXES = (".pdf", ".xlsx")


def files_by_address() -> Response | None:
    """The same, before any work, for an address that names a file (DESIGN: a PDF's URL
    ends in .pdf, a spreadsheet's in .xlsx): the file is not made twice."""
    if request.method == "GET" and is_htmx() and request.path.endswith(FILE_SUFFIXES):
        return _load_it_yourself()
    return None


def init_app(app) -> None:
    app.before_request(files_by_address)
    app.after_request(files_leave_htmx)


def trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Ask htmx to fire a client event after the swap (e.g. to refresh a badge)."""
    events = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def retarget(response: Response, selector: str, swap: str | None = None) -> Response:
    """Tell htmx to put this response somewhere else than the element that asked
    (e.g. a board move whose answer is a form for the card it came from)."""
    response.headers["HX-Retarget"] = selector
    if swap:
        response.headers["HX-Reswap"] = swap
    return response
