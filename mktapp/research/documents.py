"""What the chapter's two approved documents share, the research plan and the research
report: who may change one, and its one-step flow (the marketing manager)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from mktapp.core import approvals as engine
from mktapp.core.permissions import can

EDITABLE = frozenset({"draft", "rejected", "withdrawn"})


def may_edit(user, doc: Any) -> bool:
    """Its author or the marketing manager, while it is a draft, returned or withdrawn
    and not archived."""
    return (
        can(user, "research.edit")
        and doc.status in EDITABLE
        and not doc.is_archived
        and (doc.owner_id == user.id or "marketing_manager" in user.role_codes)
    )


def manager_flow(
    model: type,
    label: Any,
    endpoint: str,
    id_arg: str,
    kind: str,
    on_approved: Callable[[Any, Any], None] | None = None,
) -> engine.Flow:
    """The approval of a plan or report: one step, the marketing manager; the standard
    review moves its status; the inbox title is `kind`, the number and the title."""
    return engine.Flow(
        doc_type=model.__name__,
        model=model,
        label=label,
        steps=[engine.Step("manager", _l("Marketing manager"), "marketing_manager")],
        endpoint=endpoint,
        id_arg=id_arg,
        applicant=lambda doc: doc.owner,
        title=lambda doc: f"{kind} {doc.number} · {doc.title[:60]}",
        review=engine.STANDARD_REVIEW,
        on_approved=on_approved,
    )
