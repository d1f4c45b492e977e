"""Reviewed documents (issue 12, item 4): the engine moves a document's status and stamps
its times on each event, before the chapter's hook, which is written only for more; flows
are found by their model and stored under their stable key."""

from __future__ import annotations

from types import SimpleNamespace

from mktapp.core import approvals as engine
from mktapp.models import Contract, ExpenseClaim, TrainingRecord


def _flow(**changes):
    seen = []
    values = dict(
        doc_type="Sample",
        model=SimpleNamespace,
        label="sample",
        steps=engine.manager_then_leader(lambda doc: True, "always"),
        endpoint="dashboard.index",
        applicant=lambda doc: None,
        title=lambda doc: "sample",
        review=engine.STANDARD_REVIEW,
        on_approved=lambda doc, actor: seen.append(("approved", doc.status, doc.approved_at)),
    )
    values.update(changes)
    return engine.Flow(**values), seen


def test_the_engine_moves_and_stamps_the_document_before_the_hook_runs(app_ctx):
    flow, seen = _flow()
    doc = SimpleNamespace(status="draft", submitted_at=None, approved_at=None)
    flow.moved(doc, "submitted", None)
    assert doc.status == "pending" and doc.submitted_at is not None and not seen
    flow.moved(doc, "approved", None)
    assert doc.status == "approved" and seen == [("approved", "approved", doc.approved_at)]
    flow.moved(doc, "rejected", None, "reason")
    assert doc.status == "rejected"
    flow.moved(doc, "withdrawn", None)
    assert doc.status == "withdrawn"


def test_a_flow_may_say_where_withdrawal_leads_and_what_it_stamps(app_ctx):
    flow, _ = _flow(review=engine.Review(withdrawn="draft", stamps=()), on_approved=None)
    doc = SimpleNamespace(status="pending")
    flow.moved(doc, "withdrawn", None)
    flow.moved(doc, "submitted", None)
    assert doc.status == "pending" and not hasattr(doc, "submitted_at")
    flow.moved(doc, "withdrawn", None)
    assert doc.status == "draft"


def test_without_a_review_only_the_hooks_move_the_document(app_ctx):
    calls = []
    flow, _ = _flow(review=None, on_submitted=lambda doc, actor: calls.append("hook"))
    doc = SimpleNamespace(status="draft")
    flow.moved(doc, "submitted", None)
    assert doc.status == "draft" and calls == ["hook"]


def test_flows_are_found_by_model_and_the_requests_by_the_flows_key(app):
    contract, claim = Contract(), ExpenseClaim()
    assert engine.flow_for(contract).doc_type == "Contract"
    assert engine.doc_type_of(claim) == "ExpenseClaim"
    assert engine.flow_of(TrainingRecord()) is None  # no flow: no approval panel


def test_manager_then_leader_are_the_usual_two_steps():
    steps = engine.manager_then_leader(lambda doc: doc > 5, "from 5")
    assert [(s.code, s.approver) for s in steps] == [
        ("manager", "marketing_manager"),
        ("leader", "executive"),
    ]
    assert steps[0].when is None and steps[1].when(6) and not steps[1].when(5)
