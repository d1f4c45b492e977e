"""Command-line tasks: `flask seed-demo`, `flask create-user`."""

from __future__ import annotations

from datetime import date
from importlib import import_module

import click
from flask import current_app
from sqlalchemy import func, select

from mktapp.auth.passwords import password_problem
from mktapp.auth.services import create_user, ensure_roles
from mktapp.core import clock
from mktapp.core.audit import acting_as
from mktapp.extensions import db
from mktapp.models import User

# Each chapter adds its demo records through a function seed(ctx) in its demo module,
# called in this order; ctx is a dict shared between them (users by username, ...).
DEMO_SEEDERS = (
    "mktapp.demo.org:seed",
    "mktapp.org.policy_seed:seed",
    "mktapp.demo.budget:seed",
    "mktapp.demo.claims:seed",
    "mktapp.demo.customers:seed",
    "mktapp.demo.pipeline:seed",
    "mktapp.demo.contracts:seed",
    "mktapp.demo.research:seed",
    "mktapp.demo.brand:seed",
    "mktapp.demo.service:seed",
    "mktapp.demo.budget:close_last_year",
)

DEMO_PASSWORD = "mktapp-demo-2026"


def database_is_empty() -> bool:

    return (db.session.scalar(select(func.count(User.id))) or 0) == 0


def seed_demo_data(hash_method: str, today: date | None = None) -> dict:
    """Fill the database with the demo company as of `today` (default: the real today).

    Returns the shared seeding context. Every record's dates and every time the
    services stamp (created, submitted, approved at) are anchored to that day:
    the seeders read ctx["today"] / ctx["now"], the services the anchored clock.
    """

    with clock.anchored(today) as anchored_today:
        ctx: dict = {
            "hash_method": hash_method,
            "password": DEMO_PASSWORD,
            "today": anchored_today,
            "now": clock.now(),
        }
        with acting_as(None, note="demo data"):
            for spec in DEMO_SEEDERS:
                module_name, attr = spec.split(":")
                getattr(import_module(module_name), attr)(ctx)
                db.session.flush()
        db.session.commit()
    return ctx


def register_cli(app) -> None:
    @app.cli.command("seed-demo")
    @click.option("--force", is_flag=True, help="Add the demo data even if users exist.")
    @click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when not empty.")
    @click.option(
        "--today",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Build the demo as of this day (YYYY-MM-DD; default: today).",
    )
    def seed_demo(force: bool, if_empty: bool, today) -> None:
        """Fill an empty database with the demo company 示例科技有限公司."""
        if current_app.config.get("PRODUCTION"):
            raise click.ClickException(
                "refusing to load demo data under a production configuration"
            )
        if not database_is_empty():
            if if_empty:
                click.echo("Database already has data; demo data not loaded.")
                return
            if not force:
                raise click.ClickException("the database is not empty (use --force to add anyway)")
        seed_demo_data(current_app.config["PASSWORD_HASH_METHOD"], today.date() if today else None)
        click.echo(f"Demo data loaded. Demo logins (password {DEMO_PASSWORD}, demo only):")
        click.echo(
            "  admin manager market1 market2 sales1 sales2 sales3 service1 service2 finance1 boss"
        )

    @app.cli.command("create-user")
    @click.option("--username", prompt=True)
    @click.option("--name", "display_name", prompt="Display name")
    @click.option("--role", "roles", multiple=True, default=["admin"], show_default=True)
    @click.password_option()
    def create_user_cmd(username: str, display_name: str, roles: tuple[str, ...], password: str):
        """Create a user (by default the first administrator)."""

        problem = password_problem(password, username)
        if problem:
            raise click.ClickException(problem)
        if db.session.scalar(select(User).where(func.lower(User.username) == username.lower())):
            raise click.ClickException(f"user {username!r} exists already")
        ensure_roles()
        try:
            create_user(
                username=username,
                display_name=display_name,
                password=password,
                hash_method=current_app.config["PASSWORD_HASH_METHOD"],
                roles=list(roles),
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
        click.echo(f"Created {username} with roles {', '.join(roles)}.")
