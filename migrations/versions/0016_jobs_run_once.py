"""a scan's notices are unique per what, whom and day

Revision ID: 0016_jobs_run_once
Revises: 0015_sessions_and_throttle
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_jobs_run_once'
down_revision = '0015_sessions_and_throttle'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
