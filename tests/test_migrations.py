"""The schema comes from migrations only: an empty database upgrades to head, the models
and the migrations agree (`flask db check` finds nothing), and a downgrade to base
leaves no table of the app behind.

Each run uses a database of its own (scratch_database), never the suite's test database.
PostgreSQL is tested when MKTAPP_TEST_DATABASE_URL names a postgresql server.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from mktapp import create_app
from mktapp.config import TestConfig as AppTestConfig
from mktapp.extensions import db


def _differences(app) -> list:
    """Alembic's autogenerate comparison of the models with the database, readable."""
    with app.app_context(), db.engine.connect() as conn:
        opts = {"compare_type": True}
        return compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)


def _app_tables(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _enum_types(app) -> set[str]:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return set()
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
                    " WHERE t.typtype = 'e' AND n.nspname = 'public'"
                )
            )
            return {r[0] for r in rows}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_empty_database_upgrades_to_head_matches_models_and_downgrades_to_base(
    kind, scratch_database, tmp_path
):
    url = scratch_database("migr", kind)
    app = create_app(AppTestConfig(str(tmp_path), database_url=url))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    model_tables = {t.name for t in db.metadata.sorted_tables}
    try:
        with app.app_context():
            assert _app_tables(app) == set(), "the scratch database is not empty"
            upgrade()
        assert model_tables <= _app_tables(app), "upgrade did not create every model's table"

        # `flask db check`: autogenerate finds no difference between models and migrations.
        result = app.test_cli_runner().invoke(args=["db", "check"])
        diffs = _differences(app)
        assert diffs == [], "models and migrations disagree:\n" + "\n".join(map(repr, diffs))
        assert result.exit_code == 0, result.output

        with app.app_context():
            downgrade(revision="base")
        assert _app_tables(app) == set(), "tables left after downgrade to base"
        assert _enum_types(app) == set(), "enum types left after downgrade to base"

        # A database taken down to base can be brought up again (nothing half-dropped).
        with app.app_context():
            upgrade()
        assert model_tables <= _app_tables(app)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
