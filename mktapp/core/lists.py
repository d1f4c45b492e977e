"""Lists: one declaration per list gives its query from the URL, its page of rows, the
head of its table (sort headers) and its Excel export, so a column is declared once.

    CONTRACTS = ListSpec(
        "contracts",
        columns=[
            Column("number", _l("No."), lambda c: c.number, sort=Contract.number),
            Column("title", _l("Title"), lambda c: c.title),
            Column("tax", _l("Tax"), lambda c: c.tax_amount, screen=False),  # export only
            Column("total", _l("Total"), lambda c: c.total, sort=Contract.total, cls="num"),
        ],
        filters=[Filter("status", one_of(*STATUSES)), Filter("signed_from", iso_date, arg="from")],
        default_sort="updated", default_dir="desc", tie=Contract.id,
        sorts={"updated": Contract.updated_at},  # sorts with no column of their own
    )
    ContractQuery = CONTRACTS.Query            # ContractQuery.from_args(request.args)
    page = CONTRACTS.page(stmt, query, 25)     # stmt: the filtered select, not yet ordered
    return CONTRACTS.xlsx(rows, _("Sales contracts"))

The table head is `{{ table_head(query, list_url, "contract_rows") }}` (_macros/lists.html);
the cells stay in the template, one per screen column, in the declared order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from math import ceil
from typing import Any, ClassVar
from urllib.parse import urlencode

from flask import Response, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select

from mktapp.core import clock, fragments
from mktapp.core.exports import xlsx_response
from mktapp.core.htmx import render
from mktapp.core.paging import Paging
from mktapp.extensions import db

MAX_PAGE = 100_000
EXPORT_LIMIT = 100_000
# Werkzeug's query encoding (werkzeug.urls._urlencode): the same safe characters, so
# query.url() builds the string url_for() would.
_URL_SAFE = "!$'()*,/:;?@"


# --- reading one URL argument: each returns the value, or None when it is not one -------


def text(raw: str) -> str:
    return raw.strip()[:100]


def one_of(*codes: str) -> Callable[[str], str | None]:
    allowed = set(codes)
    return lambda raw: raw if raw in allowed else None


def integer(raw: str) -> int | None:
    try:
        return int(raw) or None
    except ValueError:
        return None


def iso_date(raw: str) -> date | None:
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if 1990 <= value.year <= 2100 else None


def flag(raw: str) -> bool:
    return raw == "1"


def contains(q: str, *columns):
    """The rows where any of `columns` contains the text `q` (case-insensitive; % and _
    are taken literally)."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def _to_url(value: Any) -> Any:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Filter:
    """One filter of a list: `name` on the query, `arg` in the URL (default: the name),
    `parse` turns the URL's text into the value (None: not a value, so the default)."""

    name: str
    parse: Callable[[str], Any] = text
    arg: str = ""
    default: Any = ""

    @property
    def url_name(self) -> str:
        return self.arg or self.name


@dataclass(frozen=True)
class Column:
    """One column: its label, a row's value (the export's cell), the SQL it sorts by (a
    column without `sort` is not sortable), its class (`num` right-aligns) and where it
    shows (`screen`: the HTML table; `export`: the spreadsheet). `hide_label`: the label
    is for screen readers only (an actions column)."""

    key: str
    label: Any
    value: Callable[[Any], Any] | None = None
    sort: Any = None
    cls: str = ""
    screen: bool = True
    export: bool = True
    nulls_last: bool = False
    hide_label: bool = False


def actions_column() -> Column:
    """The column of a row's buttons: on screen only, its label for screen readers."""
    return Column("actions", _l("Actions"), export=False, hide_label=True)


@dataclass
class ListPage(Paging):
    """One page of a list: its rows, how many match in all, and any totals asked for."""

    rows: list
    total: int
    page: int
    page_size: int
    totals: dict


class ListQuery:
    """What a list shows, read from the URL: the search text `q`, `sort` and `dir`, the
    `page`, and each filter of the spec as an attribute of its own."""

    spec: ClassVar[ListSpec]

    def __init__(self, q: str = "", sort: str = "", dir: str = "", page: int = 1, **values):
        spec = self.spec
        self.q = q
        self.sort = sort if sort in spec.sorts else spec.default_sort
        self.dir = dir if dir in ("asc", "desc") else spec.default_dir
        self.page = page
        self.defaults = {f.name: f.default for f in spec.filters}
        for name, value in values.items():
            if name.startswith("default_") and name[8:] in self.defaults:
                self.defaults[name[8:]] = value
            elif name not in self.defaults:
                raise TypeError(f"{type(self).__name__} has no filter {name!r}")
        for name, default in self.defaults.items():
            setattr(self, name, values.get(name, default))

    @classmethod
    def from_args(cls, args: Mapping, **defaults) -> ListQuery:
        """The query in the URL `args`, ignoring whatever it does not understand;
        `default_<filter>=value` sets what that filter is when the URL does not say."""
        spec = cls.spec
        try:
            page = max(1, min(MAX_PAGE, int(args.get("page", 1))))
        except (TypeError, ValueError):
            page = 1
        values: dict[str, Any] = dict(defaults)
        for f in spec.filters:
            raw = args.get(f.url_name)
            value = f.parse(raw) if isinstance(raw, str) and raw != "" else None
            if value is not None and value != "":
                values[f.name] = value
        return cls(
            q=text(args.get("q") or ""),
            sort=args.get("sort") or "",
            dir=args.get("dir") or "",
            page=page,
            **values,
        )

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in self.spec.filters}

    def args(self, **changes) -> dict:
        """The URL arguments of this query with some changed (by their URL names), without
        those that are empty or at their default."""
        spec = self.spec
        values: dict[str, Any] = {"q": self.q}
        values |= {f.url_name: _to_url(getattr(self, f.name)) for f in spec.filters}
        values |= {"sort": self.sort, "dir": self.dir, "page": self.page}
        values.update(changes)
        defaults = {"sort": spec.default_sort, "dir": spec.default_dir, "page": 1}
        defaults |= {f.url_name: _to_url(self.defaults[f.name]) for f in spec.filters}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}

    def url(self, base: str, **changes) -> str:
        """The list's address (`base`, from url_for once per page) with args(**changes)."""
        args = self.args(**changes)
        return f"{base}?{urlencode(args, safe=_URL_SAFE)}" if args else base

    def sort_url(self, base: str, key: str) -> str:
        """Where a sort header leads: by that column, the other way round if it is the
        current one, from the first page."""
        turn = "desc" if self.sort == key and self.dir == "asc" else "asc"
        return self.url(base, sort=key, dir=turn, page=1)

    @property
    def filtered(self) -> bool:
        return bool(self.q) or any(
            getattr(self, f.name) != self.defaults[f.name] for f in self.spec.filters
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({vars(self)!r})"


@dataclass(frozen=True)
class Cached:
    """A list whose rows stay rendered (core/fragments.py) until the data they show
    changes: `depends`, the data versions the rows show; `rules`, the models whose record
    rules decide what a reader sees (readers who see the same share the rows). Only where
    bench/ shows it pays: the claims, the customers, the staff directory."""

    depends: tuple[str, ...]
    rules: tuple[type, ...] = ()


class ListSpec:
    """The declaration of one list (see the module's docstring)."""

    def __init__(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        default_sort: str,
        default_dir: str = "asc",
        filters: Sequence[Filter] = (),
        tie: Any = None,
        tie_follows_sort: bool = True,
        sorts: Mapping[str, Any] | None = None,
        cache: Cached | None = None,
    ):
        self.name = name
        self.cache = cache
        self.columns = list(columns)
        self.filters = list(filters)
        self.default_sort = default_sort
        self.default_dir = default_dir
        self.tie = tie
        self.tie_follows_sort = tie_follows_sort
        self.sorts: dict[str, Column] = {c.key: c for c in self.columns if c.sort is not None}
        for key, expression in (sorts or {}).items():
            self.sorts[key] = Column(key, "", sort=expression, screen=False, export=False)
        assert default_sort in self.sorts, f"{name}: no sort named {default_sort!r}"
        title = "".join(part.title() for part in name.split("_"))
        self.Query: type[ListQuery] = type(f"{title}Query", (ListQuery,), {"spec": self})

    @property
    def screen_columns(self) -> list[Column]:
        return [c for c in self.columns if c.screen]

    @property
    def export_columns(self) -> list[Column]:
        return [c for c in self.columns if c.export]

    def ordered(self, stmt, query: ListQuery):
        """`stmt` in the query's order, ties broken by `tie` (the same way round)."""
        column = self.sorts[query.sort]
        expressions = column.sort if isinstance(column.sort, tuple) else (column.sort,)
        order = []
        for expression in expressions:
            term = expression.asc() if query.dir == "asc" else expression.desc()
            order.append(term.nulls_last() if column.nulls_last else term)
        if self.tie is not None:
            ascending = query.dir == "asc" or not self.tie_follows_sort
            order.append(self.tie.asc() if ascending else self.tie.desc())
        return stmt.order_by(*order)

    def page(
        self,
        stmt,
        query: ListQuery,
        page_size: int,
        *,
        totals: Mapping[str, Any] | None = None,
        options: Iterable = (),
        unique: bool = False,
    ) -> ListPage:
        """The query's page of `stmt` (a select of one entity, filtered, not ordered): the
        count of all matching rows and `totals` (name: SQL aggregate) in one statement,
        the page clamped to the last one."""
        aggregates = dict(totals or {})
        counted = stmt.order_by(None).subquery()
        figures = db.session.execute(
            select(
                func.count(),
                *(func.coalesce(func.sum(counted.c[c]), 0) for c in aggregates.values()),
            ).select_from(counted)
        ).one()
        total = figures[0] or 0
        page = max(1, min(query.page, ceil(total / page_size) or 1))
        ordered = self.ordered(stmt, query).limit(page_size).offset((page - 1) * page_size)
        if options:
            ordered = ordered.options(*options)
        result = db.session.scalars(ordered)
        rows = list(result.unique() if unique else result)
        return ListPage(
            rows, total, page, page_size, dict(zip(aggregates, figures[1:], strict=True))
        )

    def export_rows(self, stmt, query: ListQuery, limit: int = EXPORT_LIMIT) -> list:
        return list(db.session.scalars(self.ordered(stmt, query).limit(limit)).unique())

    def xlsx(self, rows: Iterable, title: str, filename: str | None = None):
        """The rows as a workbook of the export columns, named `title` and today's date."""
        columns = self.export_columns
        header = [str(c.label) for c in columns]
        data = [[c.value(row) if c.value else "" for c in columns] for row in rows]
        name = filename or f"{title}-{clock.today():%Y%m%d}.xlsx"
        return xlsx_response(name, [(title, header, data)])


# --- the route of a list -----------------------------------------------------------------


def list_page(
    template: str,
    block: str,
    query: ListQuery,
    rows: Callable[[Any, ListQuery, int], ListPage],
    push_url: str,
    key: Any = (),
    **context: Any,
) -> Response:
    """A list's page, or only its rows `block` for htmx: the query's page of
    `rows(user, query, page_size)`, with the list's tidy address for the browser's bar.

    A list whose spec is `Cached` takes its rows from the fragment cache: `key` then names
    what else the rows depend on besides the query and the reader's record rules (the
    list's endpoint, the reader's id on a "mine" list, permissions that draw buttons).
    """
    page_size = current_app.config["PAGE_SIZE"]

    def rows_context() -> dict:
        return {"page": rows(current_user, query, page_size), "query": query, **context}

    cache = query.spec.cache
    if cache is None:
        return render(template, block=block, push_url=push_url, **rows_context())
    fragment = fragments.cached_block(
        template,
        block,
        key=(repr(query), page_size, key),
        depends=cache.depends,
        reader=current_user,
        rules=cache.rules,
        context=rows_context,
    )
    return render(
        template, block=block, fragment=fragment, query=query, push_url=push_url, **context
    )
