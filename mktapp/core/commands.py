"""The daily commands a cron job runs (`flask brand-scan`, `flask contracts-scan` ...), one
recipe:

    @daily_command("contracts-scan")
    def contracts_scan(today: date) -> str:
        \"\"\"Notify owners ... of overdue deliveries and payments (once).\"\"\"
        return f"{svc.scan_overdue(today)} overdue milestones notified"

The command takes `--date YYYY-MM-DD` (default: today in the company's time zone), runs
the function as the system (the audit log names the command), commits, and prints the
line the function returns. The chapter adds it to the app in its setup (app.cli).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import click
from flask.cli import with_appcontext

from mktapp.core import clock
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
