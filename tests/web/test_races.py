"""Two people, or two jobs, at the same instant: one wins, the other is told (409), nothing
is done twice and nothing answers 500.

Real threads on real commits (marked `commits`: outside the per-test transaction, on a
demo company seeded for the test and emptied after it), TRIALS times each, on whichever
database the suite runs on (SQLite, or PostgreSQL with MKTAPP_TEST_DATABASE_URL). Each
person posts with a client of their own, signed in, with the form their page showed them,
the way two browsers would.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.expense import claims as claims_svc
from mktapp.extensions import db
from mktapp.models import (
    Activity,
    ActivityTask,
    ApprovalEvent,
    ApprovalRequest,
    AuditLog,
    Contract,
    ContractMilestone,
    Customer,
    ExpenseClaim,
    Interaction,
    Notification,
    User,
    utcnow,
)
from tests.conftest import Client
from tests.html_forms import form_for

TRIALS = 20

pytestmark = pytest.mark.commits


# --- helpers ------------------------------------------------------------------------------


def race(*calls):
    """Run the calls at the same instant, each in a thread of its own; their results in
    order (an exception raised is the result)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(k: int, call) -> None:
        barrier.wait()
        try:
            results[k] = call()
        except Exception as error:  # noqa: BLE001 (the test looks at it)
            results[k] = error

    threads = [threading.Thread(target=run, args=(k, c)) for k, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a racer hangs (a lock never released)"
    return results


def outcome(response) -> str:
    """won (a redirect), lost (409) or what else it was."""
    if 300 <= response.status_code < 400:
        return "won"
    if response.status_code == 409:
        return "lost"
    page = response.get_data(as_text=True)
    main = page[page.find("<main") : page.find("</main>")] if "<main" in page else page
    return f"{response.status_code}: {' '.join(re.sub(r'<[^>]+>', ' ', main).split())[:300]}"


def form_on(client: Client, page: str, action: str, **values) -> dict[str, str]:
    """The form posting to `action` as `page` shows it to this client, with `values` typed in."""
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    return {**form_for(response.get_data(as_text=True), action).fields, **values}


def sent(client: Client, page: str, action: str, look: bool, **values) -> dict[str, str]:
    """What the form posting to `action` sends with `values` typed in. `look`: read it off
    `page` (a form with a one-time token, "_once", every time; else the first trial, and
    the test sends every field the page's form has), else the same fields without reading
    the page again (it is slow to draw)."""
    if not look:
        return dict(values)
    form = form_on(client, page, action, **values)
    assert set(form) <= {*values, "csrf_token", "_once"}, f"{action} sends {sorted(form)}"
    return form


def signed_in(app, username: str) -> Client:
    client = Client(app.test_client())
    client.login(username)
    return client


def person(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def add_user(app, username: str, roles: list[str], group_code: str | None = None) -> None:
    from mktapp.auth.services import create_user
    from mktapp.cli import DEMO_PASSWORD

    with app.app_context():
        create_user(
            username=username,
            display_name=username,
            password=DEMO_PASSWORD,
            hash_method=app.config["PASSWORD_HASH_METHOD"],
            roles=roles,
            group_code=group_code,
        )
        db.session.commit()


@pytest.fixture
def quick_claims(monkeypatch):
    """Claims whose submission and approval do not scan the year for spending anomalies:
    not what is raced here, and most of a trial's time otherwise."""
    monkeypatch.setattr(claims_svc.FLOW, "on_submitted", None)
    monkeypatch.setattr(claims_svc.FLOW, "on_approved", None)


def _draft(owner: str):
    return claims_svc.create_claim(
        person(owner),
        claims_svc.ClaimInput(
            category="customer",
            amount=Decimal("36.00"),
            incurred_on=clock.today(),
            reason="拜访客户停车费",
            payment_method="bank",
            over_budget_reason="客户集中拜访",
        ),
        clock.today(),
    )


def submitted_claim(app, owner: str = "sales1", approved_by: tuple[str, ...] = ()) -> tuple:
    """A small claim of `owner`, submitted and approved by `approved_by` step by step:
    (claim id, the step now waiting)."""
    with app.test_request_context():
        claim = _draft(owner)
        claims_svc.submit_claim(person(owner), claim, clock.today())
        for name in approved_by:
            step = engine.pending_step(engine.current_request(claim))
            engine.approve(step.id, person(name))
        step = engine.pending_step(engine.current_request(claim))
        db.session.commit()
        return claim.id, step.id


def approved_claim(app, owner: str = "sales1") -> int:
    """A small claim of `owner` as it is once approved (how it got there is not raced)."""
    with app.test_request_context():
        claim = _draft(owner)
        claim.status, claim.submitted_at, claim.approved_at = "approved", utcnow(), utcnow()
        db.session.commit()
        return claim.id


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def audited(model: type, record_id: int, field: str) -> int:
    """How many audit entries of a record change `field` (after it was made)."""
    rows = db.session.scalars(
        select(AuditLog.changes).where(
            AuditLog.record_type == model.__name__,
            AuditLog.record_id == record_id,
            AuditLog.action != "insert",
        )
    ).all()
    return sum(1 for changes in rows if field in (changes or {}))


# --- the approval engine --------------------------------------------------------------------


def test_the_applicant_withdrawing_while_the_leader_approves_has_one_winner(
    app, demo, quick_claims
):
    """No deadlock and no double: a withdrawal and a decision take the same lock in the
    same order; whoever comes second is told the other was first."""
    owner, leader = signed_in(app, "sales1"), signed_in(app, "sales3")
    for trial in range(TRIALS):
        claim_id, step_id = submitted_claim(app)
        page = f"/expense/claims/{claim_id}"
        withdraw, approve = (
            f"/approvals/ExpenseClaim/{claim_id}/withdraw",
            f"/approvals/steps/{step_id}/approve",
        )
        answers = race(
            partial(owner.post, withdraw, sent(owner, page, withdraw, trial == 0, next=page)),
            partial(
                leader.post,
                approve,
                sent(leader, page, approve, trial == 0, next=page, comment="同意"),
            ),
        )
        results = [outcome(a) for a in answers]
        assert sorted(results) == ["lost", "won"], (trial, results)
        with app.app_context():
            request = db.session.scalar(
                select(ApprovalRequest).where(
                    ApprovalRequest.doc_type == "ExpenseClaim", ApprovalRequest.doc_id == claim_id
                )
            )
            claim = db.session.get(ExpenseClaim, claim_id)
            actions = db.session.scalars(
                select(ApprovalEvent.action).where(ApprovalEvent.request_id == request.id)
            ).all()
            statuses = {s.code: s.status for s in request.steps}
            if results[0] == "won":  # withdrawn: nothing was decided
                assert request.status == "withdrawn" and claim.status == "withdrawn"
                assert "approve" not in actions and actions.count("withdraw") == 1
                assert "approved" not in statuses.values()
            else:  # approved first: still under review, at the next step
                assert request.status == "pending" and claim.status == "pending"
                assert "withdraw" not in actions and actions.count("approve") == 1
                assert statuses["head"] == "approved"


def test_two_approvers_deciding_the_same_step_record_one_decision(app, demo, quick_claims):
    """Two finance users approve the same claim's finance step at the same instant."""
    add_user(app, "finance2", ["finance"])
    first, second = signed_in(app, "finance1"), signed_in(app, "finance2")
    for trial in range(TRIALS):
        claim_id, step_id = submitted_claim(app, approved_by=("sales3",))
        page = f"/expense/claims/{claim_id}"
        action = f"/approvals/steps/{step_id}/approve"
        forms = [
            sent(c, page, action, trial == 0, next=page, comment=f"同意 {k}")
            for k, c in enumerate((first, second))
        ]
        answers = race(
            partial(first.post, action, forms[0]),
            partial(second.post, action, forms[1]),
        )
        results = [outcome(a) for a in answers]
        assert sorted(results) == ["lost", "won"], (trial, results)
        with app.app_context():
            decisions = count(
                ApprovalEvent,
                ApprovalEvent.doc_type == "ExpenseClaim",
                ApprovalEvent.doc_id == claim_id,
                ApprovalEvent.action == "approve",
                ApprovalEvent.step_code == "finance",
            )
            assert decisions == 1, (trial, decisions)


# --- record actions (the lead's row versions) --------------------------------------------------


def test_finance_paying_one_claim_twice_at_once_pays_it_once(app, demo):
    """Two finance clerks (or one, in two tabs) record the payment of the same claim at the
    same instant: one payment, one notice to the applicant; the other is told (409)."""
    clerks = signed_in(app, "finance1"), signed_in(app, "finance1")
    today = clock.today().isoformat()
    for trial in range(TRIALS):
        claim_id = approved_claim(app)
        page = f"/expense/claims/{claim_id}"
        action = f"/expense/claims/{claim_id}/pay"
        forms = [
            sent(c, page, action, True, paid_on=today, reference=f"YH-{trial}-{k}")
            for k, c in enumerate(clerks)
        ]
        with app.app_context():
            url = engine.FLOWS["ExpenseClaim"].url(claim_id)
            owner_id = person("sales1").id
            before = count(Notification, Notification.user_id == owner_id, Notification.url == url)
        answers = race(
            partial(clerks[0].post, action, forms[0]),
            partial(clerks[1].post, action, forms[1]),
        )
        results = [outcome(a) for a in answers]
        assert sorted(results) == ["lost", "won"], (trial, results)
        with app.app_context():
            claim = db.session.get(ExpenseClaim, claim_id)
            winner = results.index("won")
            assert claim.status == "paid" and claim.payment_reference == f"YH-{trial}-{winner}"
            assert audited(ExpenseClaim, claim_id, "paid_on") == 1
            after = count(Notification, Notification.user_id == owner_id, Notification.url == url)
            assert after - before == 1, (trial, after - before)


def test_two_reps_taking_the_same_customer_from_the_pool_one_gets_it(app, demo):
    """Two reps click "take" on the same pool customer at the same instant: one owns it,
    the other is told it is gone (409); the last one does not silently win."""
    reps = signed_in(app, "sales1"), signed_in(app, "sales2")
    for trial in range(TRIALS):
        with app.app_context():
            customer = Customer(name=f"抢单测试客户{trial}", owner_id=None)
            db.session.add(customer)
            db.session.commit()
            customer_id = customer.id
            rep_ids = [person("sales1").id, person("sales2").id]
        page = f"/sales/customers/{customer_id}"
        action = f"/sales/customers/{customer_id}/claim"
        forms = [sent(r, page, action, True) for r in reps]
        answers = race(
            partial(reps[0].post, action, forms[0]), partial(reps[1].post, action, forms[1])
        )
        results = [outcome(a) for a in answers]
        assert sorted(results) == ["lost", "won"], (trial, results)
        with app.app_context():
            customer = db.session.get(Customer, customer_id)
            assert customer.owner_id == rep_ids[results.index("won")]
            assert audited(Customer, customer_id, "owner_id") == 1


# --- the daily jobs -----------------------------------------------------------------------------


def _followup(trial: int) -> tuple[type, int, str]:
    """A follow-up of sales1's whose next step is due today."""
    owner = person("sales1")
    customer = db.session.scalar(
        select(Customer)
        .where(Customer.owner_id == owner.id, Customer.archived_at.is_(None))
        .order_by(Customer.id)
    )
    item = Interaction(
        customer_id=customer.id,
        owner_id=owner.id,
        kind="call",
        happened_at=utcnow(),
        notes=f"并发测试 {trial}",
        next_date=clock.today(),
        next_action="回电确认报价",
    )
    db.session.add(item)
    db.session.flush()
    return Interaction, item.id, "reminded_on"


def _activity(trial: int, status: str, first_day, last_day) -> Activity:
    """A market activity of market1's, in `status`, from `first_day` to `last_day`."""
    activity = Activity(
        number=f"HD-T{status[:2]}{trial:03d}",
        kind="exhibition",
        theme=f"并发测试活动 {trial}",
        start_on=first_day,
        end_on=last_day,
        status=status,
        owner_id=person("market1").id,
    )
    db.session.add(activity)
    db.session.flush()
    return activity


def _overdue_task(trial: int) -> tuple[type, int, str]:
    """A task of an activity under way, with an owner, due yesterday."""
    today = clock.today()
    activity = _activity(trial, "running", today - timedelta(days=3), today + timedelta(days=3))
    task = ActivityTask(
        activity_id=activity.id,
        title=f"并发测试任务 {trial}",
        owner_id=person("market1").id,
        due_on=today - timedelta(days=1),
        status="todo",
    )
    db.session.add(task)
    db.session.flush()
    return ActivityTask, task.id, "overdue_notified_at"


def _overdue_milestone(trial: int) -> tuple[type, int, str]:
    """A payment milestone of a contract being carried out, due yesterday and not met."""
    owner = person("sales1")
    customer = db.session.scalar(
        select(Customer).where(Customer.owner_id == owner.id).order_by(Customer.id)
    )
    contract = Contract(
        number=f"HT-T{trial:03d}",
        title=f"并发测试合同 {trial}",
        customer_id=customer.id,
        owner_id=owner.id,
        status="executing",
        draft_date=clock.today() - timedelta(days=30),
    )
    db.session.add(contract)
    db.session.flush()
    milestone = ContractMilestone(
        contract_id=contract.id,
        kind="payment",
        seq=100 + trial,
        description=f"并发测试 {trial}",
        planned_date=clock.today() - timedelta(days=1),
        planned_amount=Decimal("100.00"),
    )
    db.session.add(milestone)
    db.session.flush()
    return ContractMilestone, milestone.id, "overdue_notified_on"


def _activity_starting(trial: int) -> tuple[type, int, str]:
    """An approved activity whose first day is today (the scan starts it)."""
    today = clock.today()
    return Activity, _activity(trial, "approved", today, today + timedelta(days=2)).id, "status"


SCANS = {
    "sales-reminders": (_followup, "followup"),
    "activity-tasks-scan": (_overdue_task, "task_overdue"),
    "contracts-scan": (_overdue_milestone, "milestone_overdue"),
    "brand-scan": (_activity_starting, None),
}


def _run(app, command: str) -> str:
    """The daily command, as cron runs it (its own app context, commit included)."""
    with app.app_context():
        cmd = app.cli.commands[command]
        cmd.main(["--date", clock.today().isoformat()], standalone_mode=False)
        return "ran"


def _notices(key_prefix: str, record_id: int) -> dict[int, int]:
    """{user id: notices} of a record's once-keys."""
    rows = db.session.execute(
        select(Notification.user_id, func.count(Notification.id))
        .where(Notification.once_key.like(f"{key_prefix}:{record_id}:%"))
        .group_by(Notification.user_id)
    ).all()
    return dict(rows)


def test_a_daily_job_run_twice_at_once_and_again_does_everything_once(app, demo):
    """Two cron runs of the same scan at the same instant, and one more after them: every
    notice is sent once, every change made and logged once (each scan in turn)."""
    for command, (make, key_prefix) in SCANS.items():
        for trial in range(TRIALS):
            with app.test_request_context():
                model, record_id, field = make(trial)
                db.session.commit()
            runs = race(partial(_run, app, command), partial(_run, app, command))
            assert runs == ["ran", "ran"], (command, trial, runs)
            with app.app_context():
                assert audited(model, record_id, field) == 1, (command, trial)
                if key_prefix:
                    notices = _notices(key_prefix, record_id)
                    assert notices and set(notices.values()) == {1}, (command, trial, notices)
                else:
                    assert db.session.get(model, record_id).status == "running"
        # Once more, after them: nothing new for anyone.
        with app.app_context():
            total = count(Notification), count(AuditLog)
        _run(app, command)
        with app.app_context():
            assert (count(Notification), count(AuditLog)) == total, command
