"""The one approval engine: flows, steps, decisions, history.

A chapter registers a Flow for its document type (an expense claim, a budget,
later contracts, research reports and activity plans). The engine knows no
chapter: it stores requests and steps by (doc_type, doc_id), decides who may
decide each step, records every decision on a timeline, notifies the next
approvers and the applicant, and calls the flow's hooks so the chapter can move
its document's status (the only place that status changes).

Rules that hold for every document:
- nobody decides their own document: a step that would fall to the applicant
  goes one level up (group leader -> marketing manager -> executive);
- only the current step can be decided, only by its assignee, exactly once:
  the decision is an UPDATE ... WHERE status = 'pending', so of two people
  deciding at the same moment one wins and the other gets AlreadyDecided;
- a rejection needs a reason, goes back to the applicant, who may edit and
  resubmit: each submission is a new round and the history keeps them all;
- the applicant may withdraw until the first decision;
- every write on a request (a decision, a withdrawal) takes the request's row first,
  then its steps by id (_hold), so that two of them at the same instant wait for each
  other in one order (no deadlock) and the second sees what the first did: one wins,
  the other gets AlreadyDecided (409);
- a notice that asks for a decision names its step as its task: when the step is
  decided or its round ends, every such notice is resolved for everyone it
  addressed (a "returned to you" notice, when the applicant submits again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from babel.lists import format_list
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from mktapp.core import notify as notices
from mktapp.core.errors import DomainError
from mktapp.core.permissions import can
from mktapp.extensions import db
from mktapp.models import (
    ApprovalEvent,
    ApprovalRequest,
    ApprovalStep,
    Role,
    User,
    utcnow,
)

# --- errors -------------------------------------------------------------------


class ApprovalError(DomainError):
    """A decision or submission that is not allowed; the message is for the user."""


class NotYourStep(ApprovalError):
    status = 403


class AlreadyDecided(ApprovalError):
    """Somebody decided this step first (or it is no longer current)."""

    status = 409


class NoApprover(ApprovalError):
    pass


# --- flows ----------------------------------------------------------------------

# Who stands above whom when a step would fall to the applicant.
ESCALATION: dict[str, str | None] = {
    "group_leader": "marketing_manager",
    "marketing_manager": "executive",
    "finance": "executive",
    "executive": None,
}

REQUEST_STATUS_LABELS = {
    "pending": _l("Under review"),
    "approved": _l("Approved"),
    "rejected": _l("Returned"),
    "withdrawn": _l("Withdrawn"),
}

STEP_STATUS_LABELS = {
    "waiting": _l("Not reached yet"),
    "pending": _l("Waiting for decision"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "skipped": _l("Not needed"),
    "cancelled": _l("Cancelled"),
}

ACTION_LABELS = {
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "withdraw": _l("Withdrew"),
    "comment": _l("Commented"),
}

ROLE_STEP_LABELS = {
    "group_leader": _l("Department head"),
    "marketing_manager": _l("Marketing manager"),
    "finance": _l("Finance"),
    "executive": _l("Company leader"),
}


@dataclass(frozen=True)
class Step:
    """One step of a flow.

    `approver` is "group_leader" (the applicant's group leader, i.e. the
    department head) or a role code. `when(doc)` makes the step conditional
    (e.g. only from ¥50,000); `when_label` says so on the settings page.
    """

    code: str
    label: Any
    approver: str
    when: Callable[[Any], bool] | None = None
    when_label: Any = None


@dataclass(frozen=True)
class Review:
    """How the engine moves a reviewed document on each event, before the flow's hook
    runs: the status it gets, and the time column it stamps. A hook is written only for
    what a chapter does beyond that (render a PDF, apply a change, scan the budget)."""

    submitted: str = "pending"
    approved: str = "approved"
    rejected: str = "rejected"
    withdrawn: str = "withdrawn"
    stamps: tuple[tuple[str, str], ...] = (
        ("submitted", "submitted_at"),
        ("approved", "approved_at"),
    )

    def move(self, doc: Any, event: str) -> None:
        doc.status = getattr(self, event)
        for stamped, column in self.stamps:
            if stamped == event:
                setattr(doc, column, utcnow())


# Submitted (pending, stamped), approved (stamped), rejected, withdrawn.
STANDARD_REVIEW = Review()


def manager_then_leader(when: Callable[[Any], bool], when_label: Any) -> list[Step]:
    """The usual two steps: the marketing manager, then the company leader when `when`
    (a threshold) holds."""
    return [
        Step("manager", _l("Marketing manager"), "marketing_manager"),
        Step("leader", _l("Company leader"), "executive", when=when, when_label=when_label),
    ]


@dataclass
class Flow:
    """A document type's approval: its steps, its page, who applies, its title, how its
    status moves (`review`; None: the chapter's hooks move it) and the hooks."""

    doc_type: str
    model: type
    label: Any
    steps: list[Step]
    endpoint: str  # the document's page: url_for(endpoint, <id_arg>=doc_id)
    applicant: Callable[[Any], User]
    title: Callable[[Any], str]
    id_arg: str = "doc_id"
    on_submitted: Callable[[Any, User], None] | None = None
    on_approved: Callable[[Any, User], None] | None = None
    on_rejected: Callable[[Any, User, str], None] | None = None
    on_withdrawn: Callable[[Any, User], None] | None = None
    settings: list[str] = field(default_factory=list)  # keys shown with the flow
    review: Review | None = None

    def moved(self, doc: Any, event: str, actor: User, *args: Any) -> None:
        """The document moved by `event` (submitted, approved, rejected, withdrawn):
        its status and stamp, then the chapter's hook for that event, if any."""
        if self.review is not None:
            self.review.move(doc, event)
        hook = getattr(self, f"on_{event}")
        if hook is not None:
            hook(doc, actor, *args)

    def url(self, doc_id: int) -> str:
        """The document's path; works outside a request too (jobs, tests)."""
        if has_request_context():
            return url_for(self.endpoint, **{self.id_arg: doc_id})
        adapter = current_app.url_map.bind("localhost")
        return adapter.build(self.endpoint, {self.id_arg: doc_id})


# By the key stored with every request (doc_type: stable, whatever the model's class is
# called), and by the model its documents are.
FLOWS: dict[str, Flow] = {}
_BY_MODEL: dict[type, Flow] = {}


def register_flow(flow: Flow) -> Flow:
    FLOWS[flow.doc_type] = flow
    _BY_MODEL[flow.model] = flow
    return flow


def flow_of(doc: Any) -> Flow | None:
    """The flow a document goes through, or None."""
    flow = _BY_MODEL.get(type(doc))
    # A flow replaced under its key (a test's) is the one that counts.
    return flow if flow is not None and FLOWS.get(flow.doc_type) is flow else None


def flow_for(doc: Any) -> Flow:
    flow = flow_of(doc)
    if flow is None:
        raise LookupError(f"no approval flow for {type(doc).__name__}")
    return flow


# --- resolving who decides ---------------------------------------------------------


def _active_role_holders(role: str, excluding: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(User.roles)
            .where(Role.code == role, User.active.is_(True), User.id != excluding)
            .order_by(User.id)
        )
    )


def resolve(approver: str, applicant: User) -> tuple[int | None, str | None, str]:
    """(user id, role, escalated_from) for a step, never the applicant themselves."""
    escalated_from = ""
    current: str | None = approver
    while current is not None:
        if current == "group_leader":
            group = applicant.group
            leader = group.leader if group is not None else None
            if leader is not None and leader.active and leader.id != applicant.id:
                return leader.id, None, escalated_from
        elif _active_role_holders(current, applicant.id):
            return None, current, escalated_from
        escalated_from = escalated_from or current
        current = ESCALATION.get(current)
    raise NoApprover(_l("Nobody can approve this: there is no one above the applicant."))


def step_label(step: ApprovalStep) -> str:
    flow = FLOWS.get(step.request.doc_type) if step.request else None
    if flow is not None:
        for spec in flow.steps:
            if spec.code == step.code:
                return str(spec.label)
    return step.code


def assignee_label(step: ApprovalStep) -> str:
    """Who decides a step, by name ("周敏"), not only by role: the step's own label
    already says the role. A step sent one level up also names the role it went to
    ("营销经理 王强"), since that differs from the step's label."""
    if step.assignee_user is not None:
        return step.assignee_user.display_name
    if not step.assignee_role:
        return ""
    role = str(ROLE_STEP_LABELS.get(step.assignee_role, step.assignee_role))
    applicant_id = step.request.applicant_id if step.request is not None else 0
    names = [u.display_name for u in _active_role_holders(step.assignee_role, applicant_id)]
    if not names:
        return role
    people = format_list(names, locale=str(get_locale() or "zh_Hans"))
    return f"{role} {people}" if step.escalated_from else people


# --- queries ------------------------------------------------------------------


def doc_type_of(doc: Any) -> str:
    """The key a document's requests are stored under: its flow's doc_type."""
    return flow_for(doc).doc_type


def requests_for(doc: Any) -> list[ApprovalRequest]:
    return list(
        db.session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.doc_type == doc_type_of(doc), ApprovalRequest.doc_id == doc.id)
            .options(selectinload(ApprovalRequest.steps))
            .order_by(ApprovalRequest.round)
        )
    )


def current_request(doc: Any) -> ApprovalRequest | None:
    rounds = requests_for(doc)
    return rounds[-1] if rounds else None


def pending_step(request: ApprovalRequest | None) -> ApprovalStep | None:
    if request is None or request.status != "pending":
        return None
    return next((s for s in request.steps if s.status == "pending"), None)


def may_decide(user: User, step: ApprovalStep) -> bool:
    if step.status != "pending" or step.request.status != "pending":
        return False
    if step.request.applicant_id == user.id:
        return False
    if step.assignee_user_id is not None:
        return step.assignee_user_id == user.id
    return step.assignee_role in user.role_codes


def inbox_condition(user: User):
    return and_(
        ApprovalStep.status == "pending",
        ApprovalRequest.status == "pending",
        ApprovalRequest.applicant_id != user.id,
        or_(
            ApprovalStep.assignee_user_id == user.id,
            and_(
                ApprovalStep.assignee_user_id.is_(None),
                ApprovalStep.assignee_role.in_(sorted(user.role_codes) or [""]),
            ),
        ),
    )


def inbox(
    user: User,
    doc_type: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
):
    """Steps waiting on this user, oldest first (the inbox works through them in order) or
    newest first (the workbench shows what just arrived), with request and applicant."""
    query = (
        select(ApprovalStep)
        .join(ApprovalStep.request)
        .where(inbox_condition(user))
        .options(
            # One statement for the rows, their request and applicant; the applicants'
            # roles are not needed here.
            joinedload(ApprovalStep.request)
            .joinedload(ApprovalRequest.applicant)
            .lazyload(User.roles),
        )
    )
    if newest_first:
        query = query.order_by(ApprovalRequest.submitted_at.desc(), ApprovalStep.id.desc())
    else:
        query = query.order_by(ApprovalRequest.submitted_at, ApprovalStep.id)
    if doc_type:
        query = query.where(ApprovalRequest.doc_type == doc_type)
    if limit:
        query = query.limit(limit).offset(offset)
    return list(db.session.scalars(query))


def inbox_count(user: User, doc_type: str | None = None) -> int:
    query = (
        select(func.count(ApprovalStep.id)).join(ApprovalStep.request).where(inbox_condition(user))
    )
    if doc_type:
        query = query.where(ApprovalRequest.doc_type == doc_type)
    return db.session.scalar(query) or 0


def timeline(doc: Any) -> list[ApprovalEvent]:
    return list(
        db.session.scalars(
            select(ApprovalEvent)
            .where(ApprovalEvent.doc_type == doc_type_of(doc), ApprovalEvent.doc_id == doc.id)
            .options(selectinload(ApprovalEvent.actor))
            .order_by(ApprovalEvent.at, ApprovalEvent.id)
        )
    )


def is_locked(doc: Any) -> bool:
    """A document under review or approved may not be edited (changes need a new document)."""
    request = current_request(doc)
    return request is not None and request.status in ("pending", "approved")


def may_comment(user: User, doc: Any, rounds: list[ApprovalRequest] | None = None) -> bool:
    """Whether a user may comment on a document's approval (the panel's comment box and the
    comment action both ask): once it is submitted, the people in it — its applicant (the
    document's owner), whoever has or had a step of it, whoever holds a role that approves
    this kind of document — and those who oversee every record (the manager, executives).
    Someone who may only read the document may not. The caller has loaded the document
    through its record rules: nobody comments on what they may not see."""
    flow = flow_of(doc)
    if flow is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    rounds = requests_for(doc) if rounds is None else rounds
    if not rounds:
        return False
    if can(user, "business.all"):
        return True
    applicant = flow.applicant(doc)
    if (applicant is not None and applicant.id == user.id) or any(
        r.applicant_id == user.id for r in rounds
    ):
        return True
    roles = user.role_codes
    if any(spec.approver in roles for spec in flow.steps):
        return True
    return any(
        user.id in (s.assignee_user_id, s.decided_by_id)
        or (s.assignee_user_id is None and s.assignee_role in roles and s.status != "skipped")
        for r in rounds
        for s in r.steps
    )


# --- actions ------------------------------------------------------------------


def _event(request: ApprovalRequest, action: str, actor: User | None, step_code="", comment=""):
    db.session.add(
        ApprovalEvent(
            doc_type=request.doc_type,
            doc_id=request.doc_id,
            request_id=request.id,
            round=request.round,
            step_code=step_code,
            action=action,
            actor_id=actor.id if actor else None,
            comment=comment or "",
        )
    )


def _tell(users: Iterable[User], title_fn: Callable[[], str], url: str, task: str = "") -> None:
    """Notify each user in their own language."""
    for user in users:
        with force_locale(user.locale or "zh_Hans"):
            notices.notify(user, title_fn(), url=url, task=task)


def step_task(step: ApprovalStep) -> str:
    """The task a "waiting for your approval" notice names: deciding this step."""
    return f"approval_step:{step.id}"


def return_task(request: ApprovalRequest) -> str:
    """The task a "returned to you" notice names: editing and submitting again."""
    return f"approval_return:{request.id}"


def _resolve(*tasks: str) -> None:
    notices.resolve(*tasks)


def _close_round(request: ApprovalRequest) -> None:
    """A round ended (approved, returned, withdrawn): no step of it waits on anyone now."""
    _resolve(*(step_task(s) for s in request.steps))


def _step_people(step: ApprovalStep, applicant_id: int) -> list[User]:
    if step.assignee_user_id is not None:
        user = db.session.get(User, step.assignee_user_id)
        return [user] if user is not None else []
    return _active_role_holders(step.assignee_role, applicant_id)


def _activate(request: ApprovalRequest, flow: Flow, doc: Any, actor: User) -> None:
    """Make the next waiting step current, or finish the round as approved."""
    step = next((s for s in request.steps if s.status == "waiting"), None)
    if step is None:
        request.status = "approved"
        request.decided_at = utcnow()
        _close_round(request)
        flow.moved(doc, "approved", actor)
        _tell(
            [request.applicant],
            lambda: str(_l("Approved: %(title)s", title=request.title)),
            flow.url(request.doc_id),
        )
        return
    step.status = "pending"
    db.session.flush()
    _tell(
        _step_people(step, request.applicant_id),
        lambda: str(_l("Waiting for your approval: %(title)s", title=request.title)),
        flow.url(request.doc_id),
        task=step_task(step),
    )


def submit(doc: Any, actor: User) -> ApprovalRequest:
    """Start a new round for a document; the first applicable step becomes current."""
    flow = flow_for(doc)
    previous = current_request(doc)
    if previous is not None and previous.status in ("pending", "approved"):
        raise ApprovalError(_l("This document is already under review or approved."))
    applicant = flow.applicant(doc)
    if applicant is None or applicant.id != actor.id:
        raise NotYourStep(_l("Only the applicant may submit this document."))
    request = ApprovalRequest(
        doc_type=flow.doc_type,
        doc_id=doc.id,
        round=(previous.round + 1) if previous else 1,
        status="pending",
        applicant_id=applicant.id,
        title=flow.title(doc)[:200],
    )
    db.session.add(request)
    if previous is not None:
        # Submitting again is what a "returned to you" notice asked for.
        _resolve(return_task(previous))
    for seq, spec in enumerate(flow.steps, start=1):
        applies = spec.when is None or spec.when(doc)
        user_id, role, escalated_from = (
            resolve(spec.approver, applicant) if applies else (None, None, "")
        )
        request.steps.append(
            ApprovalStep(
                seq=seq,
                code=spec.code,
                status="waiting" if applies else "skipped",
                assignee_user_id=user_id,
                assignee_role=role,
                escalated_from=escalated_from,
            )
        )
    db.session.flush()
    _event(request, "submit", actor)
    flow.moved(doc, "submitted", actor)
    _activate(request, flow, doc, actor)
    return request


def _decided(request: ApprovalRequest) -> bool:
    return any(s.status in ("approved", "rejected") for s in request.steps)


def _no_longer_pending(request: ApprovalRequest) -> AlreadyDecided:
    """The refusal for a request that left review while we looked at it."""
    if request.status == "withdrawn":
        return AlreadyDecided(_l("The applicant has withdrawn this document: nothing to decide."))
    return AlreadyDecided(_l("Someone else decided this step a moment ago."))


def _hold(request: ApprovalRequest) -> None:
    """Take the request for this transaction: what every engine write (a decision, a
    withdrawal) does first, in the same order, so that two of them on one request wait
    for each other instead of crossing or deadlocking.

    First the request's row, by an UPDATE ... WHERE status = 'pending' (PostgreSQL holds
    its row lock to the commit; SQLite its write lock, and its rowcount decides there),
    then its steps by id (SELECT ... FOR UPDATE). Request and steps are read again after
    the lock, so the second of two writers sees what the first did. Raises AlreadyDecided
    (409) when the request has left review meanwhile.
    """
    with db.session.no_autoflush:
        held = db.session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == request.id, ApprovalRequest.status == "pending")
            .values(status=ApprovalRequest.status)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.id == request.id)
            .execution_options(populate_existing=True)
        ).one()
        db.session.scalars(
            select(ApprovalStep)
            .where(ApprovalStep.request_id == request.id)
            .order_by(ApprovalStep.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    if held != 1 or request.status != "pending":
        refusal = _no_longer_pending(request)
        db.session.rollback()
        raise refusal


def _decide(step_id: int, actor: User, outcome: str, comment: str) -> ApprovalStep:
    step = db.session.get(ApprovalStep, step_id)
    if step is None:
        raise ApprovalError(_l("There is no such approval step."))
    if step.request.status == "withdrawn":
        raise _no_longer_pending(step.request)
    if step.status != "pending" or step.request.status != "pending":
        raise AlreadyDecided(_l("This step has already been decided."))
    if not may_decide(actor, step):
        raise NotYourStep(_l("This step is not yours to decide."))
    # The request first (as a withdrawal does), then the step: the guard in WHERE makes
    # the decision atomic, so of two concurrent deciders exactly one updates the row.
    _hold(step.request)
    result = db.session.execute(
        update(ApprovalStep)
        .where(ApprovalStep.id == step.id, ApprovalStep.status == "pending")
        .values(status=outcome, decided_by_id=actor.id, decided_at=utcnow(), comment=comment)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise AlreadyDecided(_l("Someone else decided this step a moment ago."))
    db.session.refresh(step)
    # Decided: the notices that asked for this decision are done, for everyone they went to.
    _resolve(step_task(step))
    return step


def approve(step_id: int, actor: User, comment: str = "") -> ApprovalRequest:
    step = _decide(step_id, actor, "approved", comment.strip())
    request = step.request
    flow = FLOWS[request.doc_type]
    doc = db.session.get(flow.model, request.doc_id)
    _event(request, "approve", actor, step.code, comment)
    _activate(request, flow, doc, actor)
    return request


def reject(step_id: int, actor: User, comment: str) -> ApprovalRequest:
    if not (comment or "").strip():
        raise ApprovalError(_l("Say why: a rejection needs a reason for the applicant."))
    step = _decide(step_id, actor, "rejected", comment.strip())
    request = step.request
    flow = FLOWS[request.doc_type]
    doc = db.session.get(flow.model, request.doc_id)
    for other in request.steps:
        if other.status == "waiting":
            other.status = "cancelled"
    request.status = "rejected"
    request.decided_at = utcnow()
    _close_round(request)
    _event(request, "reject", actor, step.code, comment)
    flow.moved(doc, "rejected", actor, comment.strip())
    _tell(
        [request.applicant],
        lambda: str(_l("Returned to you: %(title)s", title=request.title)),
        flow.url(request.doc_id),
        task=return_task(request),
    )
    return request


def withdraw(doc: Any, actor: User) -> ApprovalRequest:
    request = current_request(doc)
    if request is None:
        raise ApprovalError(_l("Only a document under review can be withdrawn."))
    if request.applicant_id != actor.id:
        raise NotYourStep(_l("Only the applicant may withdraw it."))
    if request.status == "withdrawn":
        raise AlreadyDecided(_l("This document has been withdrawn already."))
    if request.status != "pending" or _decided(request):
        raise AlreadyDecided(_l("Too late to withdraw: a decision has been made."))
    # The same lock as a decision, taken in the same order: a withdrawal and an approval
    # at the same instant wait for each other, and the second sees what the first did.
    _hold(request)
    if _decided(request):
        db.session.rollback()
        raise AlreadyDecided(_l("Too late to withdraw: a decision has been made."))
    for s in request.steps:
        if s.status in ("pending", "waiting"):
            s.status = "cancelled"
    request.status = "withdrawn"
    request.decided_at = utcnow()
    _close_round(request)
    flow = FLOWS[request.doc_type]
    _event(request, "withdraw", actor)
    flow.moved(doc, "withdrawn", actor)
    return request


def comment(doc: Any, actor: User, text: str) -> None:
    text = (text or "").strip()
    if not text:
        raise ApprovalError(_l("Write a comment first."))
    request = current_request(doc)
    if request is None:
        raise ApprovalError(_l("Comments belong to a submitted document."))
    _event(request, "comment", actor, comment=text[:2000])
