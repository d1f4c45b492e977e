"""The one search endpoint of the record pickers (core/pickers.py)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, request
from flask_login import current_user

from mktapp.core import pickers
from mktapp.core.htmx import is_partial, render
from mktapp.core.permissions import require

bp = Blueprint("pickers", __name__, url_prefix="/pick")

_FIELD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,80}")


@bp.get("/<source>")
@require()
def options(source: str):
    """Up to 20 records of a source that match ?q=, through the record rules (within
    ?scope=, for a scoped source: the source checks it)."""
    found = pickers.source_named(source)
    if found is None:
        abort(404)
    if not pickers.may_use(found, current_user):
        abort(403)
    field = request.args.get("field", "")
    field = field if _FIELD_ID.fullmatch(field) else "picker"
    # A plain link or form sends "q"; the combobox sends its own box, "<field name>-q".
    q = request.args.get("q")
    if q is None:
        q = next((v for k, v in request.args.items() if k.endswith("-q")), "")
    q = pickers.clean_query(q)
    scope = request.args.get("scope", "")[:20]
    matches = pickers.search(found, current_user, q, scope=scope)
    return render(
        "core/picker.html",
        block="picker_options",
        field=field,
        source=source,
        scope=scope,
        q=q,
        matches=matches,
        limit=pickers.LIMIT,
        oob=is_partial(),
    )


def register(app) -> None:
    """Its blueprint."""
    app.register_blueprint(bp)
