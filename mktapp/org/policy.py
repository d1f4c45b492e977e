"""The policy itself (P0, P7.3): its chapters, the screens that carry them out, its versions.

A chapter's body is plain text: sections headed "一、…", numbered clauses
"1. …", paragraphs, and notes "【说明】…". body_blocks() reads that structure
for display; nothing in it is markup, so every template escapes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mktapp.core.audit import noting
from mktapp.core.errors import DomainError
from mktapp.extensions import db
from mktapp.models import AuditLog, PolicyChapter, PolicyVersion

# Chapter -> the screens that carry it out, as (endpoint, label). A screen shows
# only when its endpoint exists, so a chapter whose blueprint is not built yet
# says so; later chapters make their links appear by using these endpoint names
# (or by adding theirs here).
SCREENS: dict[str, list[tuple[str, object]]] = {
    "P0": [
        ("org.policy", _l("The policy, chapter by chapter")),
        ("org.policy_versions", _l("Versions and effective dates")),
    ],
    "P1": [
        ("org.chart", _l("Org chart")),
        ("org.chart_pdf", _l("Org chart and duties (PDF)")),
        ("org.posts", _l("Posts and duties")),
        ("org.users", _l("Directory")),
        ("org.admin_users", _l("User administration")),
    ],
    "P2": [
        ("research.plans", _l("Research plans")),
        ("research.surveys", _l("Questionnaires")),
        ("research.competitors", _l("Competitors")),
        ("research.news", _l("Industry news")),
        ("research.reports", _l("Research reports")),
    ],
    "P3": [
        ("brand.strategies", _l("Brand strategy")),
        ("brand.activities", _l("Market activities")),
        ("brand.online", _l("Online promotion")),
    ],
    "P4": [
        ("sales.customers", _l("Customers")),
        ("sales.opportunities", _l("Opportunities")),
        ("sales.appraisals", _l("Sales appraisal")),
        ("contracts.index", _l("Sales contracts")),
    ],
    "P5": [
        ("service.care_plans", _l("Care plans")),
        ("service.followups", _l("Follow-ups")),
        ("service.tickets", _l("After-sales tickets")),
        ("service.my_desk", _l("My service desk")),
        ("service.quality", _l("Service quality")),
    ],
    "P6": [
        ("expense.budgets", _l("Budgets")),
        ("expense.claims", _l("Expense claims")),
    ],
    "P7": [
        ("org.training", _l("Training records")),
        ("audit.index", _l("Audit log")),
        ("org.policy_versions", _l("Versions and effective dates")),
    ],
}

SECTION_RE = re.compile(r"^[一二三四五六七八九十]+、")
CLAUSE_RE = re.compile(r"^(\d+)[.．、]\s*")
LABEL_RE = re.compile(r"^([^：:，。；]{2,12})[：:]")
NOTE_RE = re.compile(r"^[【\[](说明|注)[】\]]")


class DuplicateVersion(DomainError):
    """A policy version with this number exists already."""

    def __init__(self, version: str):
        super().__init__(_l("Version %(v)s exists already.", v=version), "version")


@dataclass(frozen=True)
class Block:
    kind: str  # "section", "clause", "para" or "note"
    text: str
    number: str = ""
    anchor: str = ""
    label: str = ""  # a clause's lead-in, "目标导向原则" in "1. 目标导向原则：…"


def body_blocks(code: str, body: str) -> list[Block]:
    """Split a chapter's text into sections, numbered clauses, paragraphs and notes."""
    blocks: list[Block] = []
    section = 0
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if SECTION_RE.match(line):
            section += 1
            blocks.append(Block("section", line, anchor=f"{code}.{section}"))
        elif match := CLAUSE_RE.match(line):
            text, label = line[match.end() :], ""
            if lead := LABEL_RE.match(text):
                label, text = lead.group(1), text[lead.end() :]
            blocks.append(Block("clause", text, number=match.group(1), label=label))
        elif NOTE_RE.match(line):
            blocks.append(Block("note", NOTE_RE.sub("", line).lstrip("：: ")))
        else:
            blocks.append(Block("para", line))
    return blocks


def section_titles(code: str, body: str) -> list[Block]:
    return [b for b in body_blocks(code, body) if b.kind == "section"]


def chapters() -> list[PolicyChapter]:
    return list(db.session.scalars(select(PolicyChapter).order_by(PolicyChapter.sort)))


def chapter_by_code(code: str) -> PolicyChapter | None:
    return db.session.scalar(select(PolicyChapter).where(PolicyChapter.code == code))


def neighbours(chapter: PolicyChapter) -> tuple[PolicyChapter | None, PolicyChapter | None]:
    """The chapters before and after this one."""
    ordered = chapters()
    ids = [c.id for c in ordered]
    i = ids.index(chapter.id)
    return (ordered[i - 1] if i > 0 else None, ordered[i + 1] if i + 1 < len(ordered) else None)


def versions() -> list[PolicyVersion]:
    return list(
        db.session.scalars(
            select(PolicyVersion).order_by(
                PolicyVersion.effective_on.desc(), PolicyVersion.id.desc()
            )
        )
    )


def current_version(today: date) -> PolicyVersion | None:
    """The version in force today: the latest that has taken effect, else the earliest planned."""
    in_force = db.session.scalar(
        select(PolicyVersion)
        .where(PolicyVersion.effective_on <= today)
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    if in_force is not None:
        return in_force
    return db.session.scalar(
        select(PolicyVersion).order_by(PolicyVersion.effective_on, PolicyVersion.id).limit(1)
    )


def update_chapter(actor, chapter: PolicyChapter, title: str, body: str, reason: str = "") -> bool:
    """Change a chapter's title and text; the audit log records who changed what (P7.3).

    Returns False when nothing changed. Line endings are normalised so that a
    browser's CRLF does not count as a change.
    """
    title = title.strip()
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if chapter.title == title and chapter.body == body:
        return False
    with noting(reason.strip()):
        chapter.title = title
        chapter.body = body
        db.session.flush()
    return True


def version_exists(version: str) -> bool:
    return (
        db.session.scalar(select(PolicyVersion.id).where(PolicyVersion.version == version.strip()))
        is not None
    )


def release_version(actor, version: str, effective_on: date, summary: str) -> PolicyVersion:
    """Record a new version of the policy with its effective date and what changed."""
    version = version.strip()
    if version_exists(version):
        raise DuplicateVersion(version)
    record = PolicyVersion(
        version=version,
        effective_on=effective_on,
        summary=summary.strip(),
        author_id=actor.id if actor is not None else None,
    )
    db.session.add(record)
    db.session.flush()
    return record


def chapter_edits(limit: int = 50) -> list[tuple[AuditLog, PolicyChapter | None]]:
    """Recent edits to any chapter (not the initial load), newest first, with their chapter."""
    rows = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.record_type == "PolicyChapter", AuditLog.action != "insert")
        .options(selectinload(AuditLog.actor))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    ).all()
    by_id = {c.id: c for c in chapters()}
    return [(row, by_id.get(row.record_id)) for row in rows]
