"""Import of leads (P4.1 step 1): trade-show cards and lists from .xlsx or .csv.

upload (store_upload: checked, kept in the instance folder under a random token, named
after its owner) -> column mapping guessed from the headers, with a preview -> analyse():
a report of invalid rows and likely duplicates (against the database and within the
file), by row number -> run_import(): the valid rows in one transaction, by bulk
inserts, then the file is removed.

Bad files are refused whole with a clear message (ImportRefused): not a spreadsheet,
too big, too many rows, columns or cells, a cell too long, no name column, formulas in
cells. The file is read through core.spreadsheets (its limits bound what is built).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from mktapp.core import fragments, spreadsheets
from mktapp.core.audit import current_actor_id
from mktapp.core.notify import notify
from mktapp.core.phones import InvalidPhone, normalize_phone
from mktapp.extensions import db
from mktapp.models import AuditLog, User, utcnow
from mktapp.models.sales import (
    CUSTOMER_KINDS,
    LEAD_SOURCES,
    Contact,
    Customer,
)
from mktapp.sales.customers import is_assigner, name_key, phone_key

MAX_BYTES = spreadsheets.MAX_FILE_BYTES
MAX_ROWS = spreadsheets.MAX_ROWS
MAX_COLUMNS = spreadsheets.MAX_COLUMNS
PREVIEW_ROWS = 5
KEEP_SECONDS = 24 * 3600
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# What a column may become: (key, label, required, max length)
FIELDS: list[tuple[str, object, bool, int]] = [
    ("name", _l("Customer name"), True, 200),
    ("kind", _l("Kind"), False, 20),
    ("industry", _l("Industry"), False, 80),
    ("province", _l("Province"), False, 40),
    ("city", _l("City"), False, 40),
    ("address", _l("Address"), False, 300),
    ("grade", _l("Grade"), False, 1),
    ("source", _l("Lead source"), False, 40),
    ("source_detail", _l("Source detail"), False, 200),
    ("contact_name", _l("Contact"), False, 80),
    ("contact_title", _l("Job title"), False, 80),
    ("phone", _l("Phone"), False, 40),
    ("email", _l("E-mail"), False, 120),
    ("wechat", _l("WeChat"), False, 80),
    ("notes", _l("Notes"), False, 2000),
]
FIELD_KEYS = [f[0] for f in FIELDS]
FIELD_MAX = {f[0]: f[3] for f in FIELDS}

# Header words recognised (compared folded: lower case, no spaces or punctuation).
HEADER_GUESSES: dict[str, tuple[str, ...]] = {
    "name": (
        "客户名称",
        "客户",
        "公司名称",
        "公司",
        "单位名称",
        "单位",
        "企业名称",
        "名称",
        "customer",
        "customername",
        "company",
        "companyname",
        "name",
        "organisation",
        "organization",
        "account",
    ),
    "kind": ("客户类型", "类型", "kind", "type"),
    "industry": ("行业", "所属行业", "industry", "sector"),
    "province": ("省份", "省", "所在省份", "province", "state"),
    "city": ("城市", "市", "所在城市", "city"),
    "address": ("地址", "详细地址", "公司地址", "address"),
    "grade": ("等级", "客户等级", "级别", "客户分级", "grade", "level"),
    "source": ("来源", "线索来源", "客户来源", "source", "leadsource"),
    "source_detail": (
        "来源说明",
        "来源详情",
        "展会",
        "展会名称",
        "推荐人",
        "sourcedetail",
        "fair",
        "event",
        "referredby",
    ),
    "contact_name": (
        "联系人",
        "姓名",
        "联系人姓名",
        "contact",
        "contactname",
        "person",
        "fullname",
    ),
    "contact_title": ("职务", "职位", "头衔", "title", "jobtitle", "position"),
    "phone": (
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "电话号码",
        "phone",
        "mobile",
        "tel",
        "telephone",
        "phonenumber",
        "cell",
    ),
    "email": ("邮箱", "电子邮件", "电子邮箱", "email", "e-mail", "mail"),
    "wechat": ("微信", "微信号", "wechat", "weixin"),
    "notes": ("备注", "说明", "需求", "notes", "note", "remarks", "comment", "comments"),
}


class ImportRefused(Exception):
    """A file (or a mapping) that cannot be imported; str() is the message."""


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", "", (text or "").strip().lower())


def guess_mapping(headers: list[str]) -> list[str]:
    """For each column, the field it most likely holds ("" = not imported)."""
    taken: set[str] = set()
    out = []
    for header in headers:
        folded = _fold(header)
        guess = ""
        for key, words in HEADER_GUESSES.items():
            if key not in taken and folded in {_fold(w) for w in words}:
                guess = key
                break
        if guess:
            taken.add(guess)
        out.append(guess)
    return out


# --- reading a file ------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]  # data rows, as text; row n of the file is rows[n - 2]


def _refuse_formulas(cells: list[str]) -> None:
    if cells:
        raise ImportRefused(
            _(
                "The file contains formulas (cell %(cells)s). Formulas are not imported: "
                "copy the cells and paste them as values, then upload the file again.",
                cells=", ".join(cells[:5]) + (" …" if len(cells) > 5 else ""),
            )
        )


def read_table(data: bytes, filename: str) -> Table:
    """The file's header row and data rows, or ImportRefused with the reason. The file is
    read through core.spreadsheets, whose limits bound what reading builds (columns,
    cells, one cell, all the text) and stop a file past them while it is read."""
    limits = spreadsheets.Limits(max_bytes=MAX_BYTES, max_rows=MAX_ROWS)
    rows: list[list[str]] = []
    formulas: list[str] = []
    try:
        for r, row in enumerate(spreadsheets.read_rows(data, filename, limits), start=1):
            for c, cell in enumerate(row, start=1):
                if cell.startswith("=") and len(formulas) < 6:
                    formulas.append(f"{spreadsheets.column_letter(c)}{r}")
            rows.append(row)
    except spreadsheets.SpreadsheetRefused as refused:
        raise ImportRefused(str(refused)) from refused
    _refuse_formulas(formulas)
    if not rows:
        raise ImportRefused(_("The file is empty."))
    width = max(len(r) for r in rows)  # short rows are filled to the widest
    rows = [r + [""] * (width - len(r)) for r in rows]
    table = Table(rows[0], rows[1:])
    while table.rows and not any(table.rows[-1]):
        table.rows.pop()
    if not any(table.headers):
        raise ImportRefused(_("The first row must hold the column names; it is empty."))
    if not table.rows:
        raise ImportRefused(_("The file has column names but no rows to import."))
    return table


# --- keeping the file between steps ---------------------------------------------------------------


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(user: User, token: str) -> Path | None:
    if not TOKEN_RE.match(token or ""):
        return None
    for ext in (".xlsx", ".csv"):
        path = _folder() / f"{user.id}-{token}{ext}"
        if path.exists():
            return path
    return None


def store_upload(user: User, data: bytes, filename: str) -> tuple[str, Table]:
    """Check the file and keep it for the next steps; returns (token, its table)."""
    table = read_table(data, filename)
    _clean_old()
    token = secrets.token_urlsafe(18)
    ext = os.path.splitext(filename)[1].lower()
    path = _folder() / f"{user.id}-{token}{ext}"
    path.write_bytes(data)
    (_folder() / f"{user.id}-{token}.name").write_text(
        os.path.basename(filename)[:200], encoding="utf-8"
    )
    # The table as read, so that the next steps need not parse the workbook again.
    (_folder() / f"{user.id}-{token}.json").write_text(
        json.dumps({"headers": table.headers, "rows": table.rows}, ensure_ascii=False),
        encoding="utf-8",
    )
    return token, table


def load_upload(user: User, token: str) -> tuple[Table, str] | None:
    """The kept file of this user (None when missing, expired or someone else's)."""
    path = _path(user, token)
    if path is None:
        return None
    name_file = path.with_suffix(".name")
    filename = name_file.read_text(encoding="utf-8") if name_file.exists() else path.name
    parsed = path.with_suffix(".json")
    if parsed.exists():
        try:
            kept = json.loads(parsed.read_text(encoding="utf-8"))
            return Table(kept["headers"], kept["rows"]), filename
        except (ValueError, KeyError):
            pass
    return read_table(path.read_bytes(), path.name), filename


def discard_upload(user: User, token: str) -> None:
    path = _path(user, token)
    if path is not None:
        path.unlink(missing_ok=True)
        path.with_suffix(".name").unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)


def _clean_old() -> None:
    limit = time.time() - KEEP_SECONDS
    for path in _folder().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


# --- mapping and checking -------------------------------------------------------------------------


def check_mapping(mapping: list[str], width: int) -> list[str]:
    """The mapping cleaned (unknown keys dropped); ImportRefused when the name is not mapped
    or a field is mapped twice."""
    mapping = [(m if m in FIELD_KEYS else "") for m in mapping[:width]]
    mapping += [""] * (width - len(mapping))
    if "name" not in mapping:
        raise ImportRefused(_("Choose which column holds the customer name."))
    used = [m for m in mapping if m]
    doubles = sorted({m for m in used if used.count(m) > 1})
    if doubles:
        labels = {k: str(label) for k, label, _r, _m in FIELDS}
        raise ImportRefused(
            _(
                "Each field can come from one column only: %(fields)s chosen twice.",
                fields=", ".join(labels[d] for d in doubles),
            )
        )
    return mapping


_SOURCE_WORDS: dict[str, str] = {}
_KIND_WORDS = {"公司": "company", "企业": "company", "单位": "company", "个人": "individual"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _source_code(text: str) -> str | None:
    if not _SOURCE_WORDS:
        for code, label in LEAD_SOURCES.items():
            _SOURCE_WORDS[_fold(code)] = code
            for locale in ("zh_Hans", "en"):
                with force_locale(locale):
                    _SOURCE_WORDS[_fold(str(label))] = code
        _SOURCE_WORDS.update(
            {
                _fold(w): c
                for w, c in (
                    ("展会", "fair"),
                    ("名片", "fair"),
                    ("调研", "research"),
                    ("网络", "web"),
                    ("网站", "web"),
                    ("推荐", "referral"),
                    ("转介绍", "referral"),
                    ("活动", "activity"),
                    ("广告", "ads"),
                )
            }
        )
    return _SOURCE_WORDS.get(_fold(text))


@dataclass
class RowResult:
    line: int  # the row number in the file (the header is row 1)
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)
    duplicate: str = ""  # what it duplicates (a customer's name, or "row n")
    duplicate_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and not self.duplicate


@dataclass
class Report:
    rows: list[RowResult]

    @property
    def valid(self) -> list[RowResult]:
        return [r for r in self.rows if r.ok]

    @property
    def invalid(self) -> list[RowResult]:
        return [r for r in self.rows if r.problems]

    @property
    def duplicates(self) -> list[RowResult]:
        return [r for r in self.rows if not r.problems and r.duplicate]

    @property
    def empty(self) -> int:
        return 0


def analyse(table: Table, mapping: list[str], default_source: str = "fair") -> Report:
    """Check every row: required name, lengths, grade, source, e-mail; and duplicates by folded
    name or phone, in the database (a few IN queries, not one per row) and in the file."""
    mapping = check_mapping(mapping, len(table.headers))
    results: list[RowResult] = []
    for n, row in enumerate(table.rows, start=2):
        if not any(row):
            continue
        values = {key: row[i].strip() for i, key in enumerate(mapping) if key and i < len(row)}
        result = RowResult(n, values)
        name = values.get("name", "")
        if not name:
            result.problems.append(_("The customer name is empty."))
        elif not name_key(name):
            result.problems.append(_("The name needs at least one letter or digit."))
        for key, value in values.items():
            if len(value) > FIELD_MAX[key] and key != "grade":
                result.problems.append(
                    _(
                        "%(field)s is longer than %(n)s characters.",
                        field=_label(key),
                        n=FIELD_MAX[key],
                    )
                )
        grade = values.get("grade", "").upper()
        if grade and grade not in ("A", "B", "C"):
            result.problems.append(
                _("The grade must be A, B or C (not %(value)s).", value=values["grade"])
            )
        source = values.get("source", "")
        if source and _source_code(source) is None:
            result.problems.append(_("Unknown lead source: %(value)s.", value=source))
        kind = values.get("kind", "")
        if kind and _kind_code(kind) is None:
            result.problems.append(
                _("Unknown kind: %(value)s (company or individual).", value=kind)
            )
        email = values.get("email", "")
        if email and not _EMAIL.fullmatch(email):
            result.problems.append(_("The e-mail address %(value)s is not valid.", value=email))
        phone = values.get("phone", "")
        if phone:
            try:
                values["phone"] = normalize_phone(phone)  # what is saved, and compared
            except InvalidPhone as error:
                result.problems.append(
                    _("The phone number “%(value)s” is not valid: %(why)s", value=phone, why=error)
                )
        results.append(result)
    _mark_duplicates(results)
    return Report(results)


def _kind_code(text: str) -> str | None:
    folded = _fold(text)
    if folded in CUSTOMER_KINDS:
        return folded
    for label_code, label in CUSTOMER_KINDS.items():
        if folded == _fold(str(label)):
            return label_code
    return _KIND_WORDS.get(text.strip())


def _label(key: str) -> str:
    return next(str(label) for k, label, _r, _m in FIELDS if k == key)


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _mark_duplicates(results: list[RowResult]) -> None:
    checked = [r for r in results if not r.problems]
    names = sorted({name_key(r.values["name"]) for r in checked})
    phones = sorted({k for r in checked if len(k := phone_key(r.values.get("phone", ""))) >= 6})
    # Archived customers are skipped here, not in SQL: a condition on archived_at would let
    # the planner walk ix_customers_list (every customer) instead of the name/phone index.
    known_names: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(names):
        for cid, key, name, archived in db.session.execute(
            select(Customer.id, Customer.name_key, Customer.name, Customer.archived_at).where(
                Customer.name_key.in_(chunk)
            )
        ):
            if archived is None:
                known_names.setdefault(key, (cid, name))
    known_phones: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(phones):
        for cid, key, name, archived in db.session.execute(
            select(Customer.id, Contact.phone_key, Customer.name, Customer.archived_at)
            .select_from(Contact)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(Contact.phone_key.in_(chunk))
        ):
            if archived is None:
                known_phones.setdefault(key, (cid, name))
    seen_names: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    for r in checked:
        key = name_key(r.values["name"])
        pkey = phone_key(r.values.get("phone", ""))
        pkey = pkey if len(pkey) >= 6 else ""
        hit = known_names.get(key) or (known_phones.get(pkey) if pkey else None)
        if hit:
            r.duplicate_id, r.duplicate = hit
        elif key in seen_names:
            r.duplicate = _("row %(n)s of this file", n=seen_names[key])
        elif pkey and pkey in seen_phones:
            r.duplicate = _("row %(n)s of this file", n=seen_phones[pkey])
        seen_names.setdefault(key, r.line)
        if pkey:
            seen_phones.setdefault(pkey, r.line)


# --- importing -----------------------------------------------------------------------------------


def run_import(
    user: User,
    report: Report,
    default_source: str,
    source_detail: str,
    owner_id: int | None,
    filename: str = "",
) -> int:
    """Insert the valid rows (customers, their contacts, one audit entry each) by bulk
    inserts in the caller's transaction; returns how many customers were added."""
    rows = report.valid
    if not rows:
        return 0
    if default_source not in LEAD_SOURCES:
        default_source = "fair"
    if not is_assigner(user):
        owner_id = user.id
    now = utcnow()
    customers = []
    for r in rows:
        v = r.values
        customers.append(
            {
                "name": v["name"],
                "name_key": name_key(v["name"]),
                "kind": _kind_code(v.get("kind", "")) or "company",
                "industry": v.get("industry", ""),
                "size": "",
                "province": v.get("province", "").removesuffix("省").removesuffix("市"),
                "city": v.get("city", ""),
                "address": v.get("address", ""),
                "grade": (v.get("grade") or "C").upper(),
                "status": "potential",
                "source": _source_code(v["source"]) if v.get("source") else default_source,
                "source_detail": v.get("source_detail") or source_detail,
                "notes": v.get("notes", ""),
                "owner_id": owner_id,
                "created_by_id": user.id,
                "assigned_at": now if owner_id else None,
                "created_at": now,
                "updated_at": now,
            }
        )
    # One executemany without RETURNING (row-at-a-time on SQLite), then the new ids in one
    # query: the rows are told apart by their folded names, unique within an import (a
    # name seen twice in the file is reported as a duplicate, not imported).
    db.session.execute(insert(Customer.__table__), customers)
    fragments.bump(db.session.connection(), ["customers"])  # Core inserts: no ORM events
    new_ids = dict(
        db.session.execute(
            select(Customer.name_key, Customer.id).where(
                Customer.created_by_id == user.id,
                Customer.created_at == now,
                Customer.archived_at.is_(None),
            )
        ).all()
    )
    ids = [new_ids[c["name_key"]] for c in customers]
    contacts = []
    for cid, r in zip(ids, rows, strict=True):
        v = r.values
        if any(v.get(k) for k in ("contact_name", "phone", "email", "wechat")):
            contacts.append(
                {
                    "customer_id": cid,
                    "name": v.get("contact_name") or v["name"][:80],
                    "title": v.get("contact_title", ""),
                    "phone": v.get("phone", ""),
                    "phone_key": phone_key(v.get("phone", "")),
                    "email": v.get("email", ""),
                    "wechat": v.get("wechat", ""),
                    "is_primary": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if contacts:
        db.session.execute(insert(Contact.__table__), contacts)
    actor = current_actor_id()
    note = _("Imported from %(file)s", file=filename) if filename else _("Imported")
    db.session.execute(
        insert(AuditLog.__table__),
        [
            {
                "at": now,
                "actor_id": actor,
                "action": "insert",
                "record_type": "Customer",
                "record_id": cid,
                "record_label": c["name"][:200],
                "changes": {
                    k: [None, c[k]]
                    for k in ("name", "source", "source_detail", "grade", "owner_id")
                    if c[k] not in (None, "")
                },
                "note": note,
            }
            for cid, c in zip(ids, customers, strict=True)
        ],
    )
    if owner_id and owner_id != user.id:
        _tell(owner_id, len(ids))
    return len(ids)


def _tell(owner_id: int, count: int) -> None:

    owner = db.session.get(User, owner_id)
    if owner is not None:
        notify(
            owner,
            _("%(n)s new leads handed to you", n=count),
            body=_(
                "Imported leads are in your customer list; contact them and record the follow-up."
            ),
            url=url_for("sales.customers_mine"),
        )
