"""The demo company (示例科技有限公司), one module per chapter, seeded in order by
`flask seed-demo` (mktapp/cli.py seed_demo_data, anchored to the day it is given).

Each module's seed(ctx) goes through the chapters' public services and the approval
engine (a status moves only in its transition: opportunities through
sales.pipeline.move_stage, payments through expense.claims.record_payment), then moves
the times back (a year of work happens in one run).
"""

from mktapp.core import approvals as engine
from mktapp.extensions import db
from mktapp.models import User


def approve_all(doc, users: dict[str, User], leader_comment: str = "") -> None:
    """Approve every pending step of the document's current request, each by whom it
    waits on: the named person, else the demo's marketing manager, finance or company
    leader (who writes `leader_comment`, if any)."""
    while True:
        step = engine.pending_step(engine.current_request(doc))
        if step is None:
            return
        leader = step.assignee_role == "executive"
        if step.assignee_user_id is not None:
            who = db.session.get(User, step.assignee_user_id)
        else:
            who = {"executive": users["boss"], "finance": users["finance1"]}.get(
                step.assignee_role, users["manager"]
            )
        engine.approve(step.id, who, (leader and leader_comment) or "同意。")
