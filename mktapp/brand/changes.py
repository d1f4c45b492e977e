"""Change requests to an approved or running activity plan (变更申请, P3.2).

An approved plan is not edited in place: the planner (or the manager) fills in the plan
form prefilled with the current plan and says why; that makes an ActivityChange holding
the proposed plan and the plan as it was (JSON), submitted to the approval engine
(doc_type "ActivityChange": the marketing manager, and the company leader from the
threshold or when the change exceeds the free budget). The hook on approval applies the
proposed values to the activity; until then the activity keeps its approved plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mktapp.brand import activities as act
from mktapp.core import approvals as engine
from mktapp.core import vocab
from mktapp.core.audit_display import describe, snapshot
from mktapp.core.i18n import money
from mktapp.extensions import db
from mktapp.models import User
from mktapp.models.brand import CHANGE_STATUSES, Activity, ActivityChange

FIELDS = (
    ("kind", _l("Kind")),
    ("theme", _l("Theme")),
    ("purpose", _l("Activity purpose")),
    ("target_participants", _l("Target participants")),
    ("target_leads", _l("Target leads")),
    ("target_sales", _l("Target sales")),
    ("start_on", _l("Starts")),
    ("end_on", _l("Ends")),
    ("place", _l("Place")),
    ("form", _l("Form")),
    ("audience", _l("Target audience")),
    ("content", _l("Activity content")),
)


def to_json(data: act.PlanInput, **extra) -> str:
    out = {
        "kind": data.kind,
        "theme": data.theme.strip(),
        "purpose": (data.purpose or "").strip(),
        "target_participants": int(data.target_participants or 0),
        "target_leads": int(data.target_leads or 0),
        "target_sales": str(Decimal(data.target_sales or 0).quantize(act.CENT)),
        "start_on": data.start_on.isoformat(),
        "end_on": data.end_on.isoformat(),
        "place": (data.place or "").strip(),
        "content": (data.content or "").strip(),
        "form": data.form,
        "audience": (data.audience or "").strip(),
        "staff": [[uid, duty.strip()] for uid, duty in data.staff],
        "lines": [
            [ln.category, ln.year, ln.month, str(Decimal(ln.amount).quantize(act.CENT)), ln.note]
            for ln in data.lines
        ],
    }
    out.update(extra)
    return json.dumps(out, ensure_ascii=False)


def from_json(text: str) -> act.PlanInput:
    d = json.loads(text or "{}")
    return act.PlanInput(
        kind=d["kind"],
        theme=d["theme"],
        purpose=d.get("purpose", ""),
        target_participants=int(d.get("target_participants", 0)),
        target_leads=int(d.get("target_leads", 0)),
        target_sales=Decimal(d.get("target_sales", "0")),
        start_on=date.fromisoformat(d["start_on"]),
        end_on=date.fromisoformat(d["end_on"]),
        place=d.get("place", ""),
        content=d.get("content", ""),
        form=d.get("form", "offline"),
        audience=d.get("audience", ""),
        staff=[(int(uid), duty) for uid, duty in d.get("staff", [])],
        lines=[
            act.LineInput(c, int(y), int(m), Decimal(a), note or "")
            for c, y, m, a, note in d.get("lines", [])
        ],
    )


def extra_of(change: ActivityChange) -> dict:
    d = json.loads(change.proposed or "{}")
    return {"over_budget": d.get("over_budget", [])}


def pending_change(activity: Activity) -> ActivityChange | None:
    return db.session.scalar(
        select(ActivityChange).where(
            ActivityChange.activity_id == activity.id, ActivityChange.status == "pending"
        )
    )


def changes_of(activity: Activity) -> list[ActivityChange]:
    return list(
        db.session.scalars(
            select(ActivityChange)
            .where(ActivityChange.activity_id == activity.id)
            .order_by(ActivityChange.created_at.desc(), ActivityChange.id.desc())
        ).unique()
    )


def request_change(
    user: User, activity: Activity, data: act.PlanInput, reason: str
) -> ActivityChange:
    """Make and submit a change request; ActivityError (nothing written) when it cannot be."""
    if not act.may_request_change(user, activity):
        raise act.ActivityError(_("Changes can be requested for approved or running activities."))
    if pending_change(activity) is not None:
        raise act.ActivityError(
            _("A change request for this activity is already under review."), "reason"
        )
    problems = []
    try:
        act.check(data)
    except act.ActivityError as error:
        problems = list(error.problems)
    reason = (reason or "").strip()
    if not reason:
        problems.append(("reason", _("Say why the plan has to change.")))
    if problems:
        raise act.ActivityError(problems[0][1], problems[0][0], problems)
    previous = act.input_of(activity)
    if to_json(previous) == to_json(data):
        raise act.ActivityError(_("Nothing was changed in the plan."), "reason")
    short = act.shortfalls(data.lines, exclude_activity_id=activity.id)
    change = ActivityChange(
        activity_id=activity.id,
        owner_id=user.id,
        reason=reason[:4000],
        proposed=to_json(data, over_budget=[s.message for s in short]),
        previous=to_json(previous),
        status="draft",
    )
    db.session.add(change)
    db.session.flush()
    try:
        engine.submit(change, user)
    except engine.ApprovalError as error:
        raise act.ActivityError(str(error)) from None
    return change


# --- the comparison ----------------------------------------------------------------------------


@dataclass
class DiffRow:
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _show(name: str, value) -> str:
    if name == "kind":
        return act.kind_label(value)
    if name == "form":
        return act.form_label(value)
    if name == "target_sales":
        return money(Decimal(value))
    return str(value if value is not None else "")


def _people(ids) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def diff(change: ActivityChange) -> list[DiffRow]:
    """Field by field, then staff and budget lines: the plan before and as proposed."""
    before = json.loads(change.previous or "{}")
    after = json.loads(change.proposed or "{}")
    rows = [
        DiffRow(str(label), _show(name, before.get(name, "")), _show(name, after.get(name, "")))
        for name, label in FIELDS
    ]
    names = _people({uid for uid, _d in before.get("staff", []) + after.get("staff", [])})

    def staff_text(items):
        return "\n".join(f"{names.get(uid, uid)}: {duty}" for uid, duty in items)

    def lines_text(items):
        return "\n".join(
            f"{act.category_label(c)} {act.month_text(y, m)} {money(Decimal(a))}"
            + (f" ({note})" if note else "")
            for c, y, m, a, note in items
        )

    def total(items):
        return money(sum((Decimal(a) for _c, _y, _m, a, _n in items), Decimal("0")))

    rows.append(
        DiffRow(
            _("Staff and duties"),
            staff_text(before.get("staff", [])),
            staff_text(after.get("staff", [])),
        )
    )
    rows.append(
        DiffRow(
            _("Budget lines"),
            lines_text(before.get("lines", [])),
            lines_text(after.get("lines", [])),
        )
    )
    rows.append(
        DiffRow(_("Budget total"), total(before.get("lines", [])), total(after.get("lines", [])))
    )
    return rows


def proposed_total(change: ActivityChange) -> Decimal:
    after = json.loads(change.proposed or "{}")
    return sum((Decimal(a) for _c, _y, _m, a, _n in after.get("lines", [])), Decimal("0"))


# --- the approval flow ----------------------------------------------------------------------------


def needs_executive(change: ActivityChange) -> bool:
    return proposed_total(change) >= act.executive_threshold() or bool(
        extra_of(change)["over_budget"]
    )


def on_approved(change: ActivityChange, actor: User) -> None:
    """Apply the proposed plan to the activity (the only place an approved plan changes)."""
    activity = change.activity
    data = from_json(change.proposed)
    reason = act.check_approval(change, data.lines, actor, exclude_activity_id=activity.id)
    act._apply(activity, data)
    if reason:
        activity.over_budget_reason = reason[:4000]


def change_title(change: ActivityChange) -> str:
    activity = change.activity
    return f"活动变更 {activity.number} · {activity.theme[:60]}"


FLOW = engine.Flow(
    doc_type="ActivityChange",
    model=ActivityChange,
    label=_l("Activity change request"),
    steps=engine.manager_then_leader(needs_executive, LazyString(act.executive_when_label)),
    endpoint="brand.activity_change_detail",
    id_arg="change_id",
    applicant=lambda change: change.owner,
    title=change_title,
    review=engine.STANDARD_REVIEW,
    on_approved=on_approved,
    settings=[act.THRESHOLD.key],
)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, CHANGE_STATUSES)
    engine.register_flow(FLOW)
    describe(
        ActivityChange,
        title=_l("Activity change request"),
        fields={
            "reason": _l("Reason for the change"),
            "status": _l("Status"),
            "submitted_at": _l("Submitted"),
            "approved_at": _l("Approved"),
            "proposed": _l("Proposed plan"),
            "previous": _l("Plan before the change"),
        },
        values={
            "status": CHANGE_STATUSES.label,
            "proposed": snapshot("Activity"),
            "previous": snapshot("Activity"),
        },
    )
