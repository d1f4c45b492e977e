"""public answers bounded per address

Revision ID: 0017_public_answers_bounded
Revises: 0016_jobs_run_once
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_public_answers_bounded'
down_revision = '0016_jobs_run_once'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
