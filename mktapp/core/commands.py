"""The daily commands a cron job runs (`flask brand-scan`, `flask contracts-scan` ...), one
recipe:

    @daily_command("contracts-scan")
    def contracts_scan(today: date) -> str:
        \"\"\"Notify owners ... of overdue deliveries and payments (once).\"\"\"
        return f"{svc.scan_overdue(today)} overdue milestones notified"

The command takes `--date YYYY-MM-DD` (default: today in the company's time zone), runs
the function as the system (the audit log names the command), commits, and prints the
line the function returns. The chapter adds it to the app in its setup (app.cli).

A scan must be safe to run twice, at once or one after the other (two cron jobs, the cron
job and a page that sends a user's reminders now): it takes the rows it acts on with
mark_once(), which of two runs gives each row to exactly one, and its notices carry a key
(notify(..., once="what:day")), which a user gets at most once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from mktapp.core import audit, clock, fragments
from mktapp.core.audit import acting_as
from mktapp.extensions import db


def daily_command(name: str) -> Callable[[Callable[[date], str]], click.Command]:
    """A click command `name` running the decorated function for a day (see the module)."""

    def make(run: Callable[[date], str]) -> click.Command:
        @click.command(name, help=run.__doc__)
        @with_appcontext
        @click.option(
            "--date", "day", default="", help="Run as of this date (YYYY-MM-DD); default today."
        )
        def command(day: str) -> None:
            today = date.fromisoformat(day) if day else clock.today()
            with acting_as(None, note=name):
                line = run(today)
                db.session.commit()
            click.echo(line)

        return command

    return make


def mark_once(records: Iterable[Any], column: str, value: Any, expected: Any = None) -> list[Any]:
    """Of these records (of one model, read by a scan), the ones this run takes: those whose
    `column` is still `expected` (None: empty) get `value`, by one
    UPDATE ... SET column = value WHERE id IN (...) AND column = expected RETURNING id.

    Of two runs at the same instant each record goes to exactly one (PostgreSQL: the second
    waits for the first's row locks and finds the column changed; SQLite: the second writes
    after the first), and a run after them takes nothing: what a scan does for the records
    it took (a notice, a status moved on) is done once. As if the ORM had written the
    change: the records keep the new value, their row_version goes up, the audit log has
    the change and the cached fragments showing the model are told.
    """
    records = list(records)
    if not records:
        return []
    model = type(records[0])
    mapper = inspect(model)
    table = mapper.local_table
    target = table.c[column]
    values: dict[str, Any] = {column: value}
    returned = [table.c.id]
    version = mapper.version_id_col
    if version is not None:
        values[version.key] = version + 1
        returned.append(version)
    guard = target.is_(None) if expected is None else target == expected
    rows = db.session.execute(
        update(table)
        .where(table.c.id.in_([r.id for r in records]), guard)
        .values(values)
        .returning(*returned)
    ).all()
    taken_versions = {row[0]: (row[1] if version is not None else None) for row in rows}
    taken = [r for r in records if r.id in taken_versions]
    if not taken:
        return []
    logged = getattr(model, "__audited__", False) and column in audit.audited_fields(model)
    for record in taken:
        set_committed_value(record, column, value)
        if version is not None:
            set_committed_value(
                record, mapper.get_property_by_column(version).key, taken_versions[record.id]
            )
        if logged:
            # The values in the form the log keeps them (dates as ISO text ...).
            audit.log(
                record, "update", {column: [audit.plain_value(expected), audit.plain_value(value)]}
            )
    names = getattr(model, "__fragment_versions__", ())
    if names:
        fragments.bump(db.session.connection(), names)
    return taken
