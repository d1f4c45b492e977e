"""server-side sessions and login throttling

Revision ID: 0015_sessions_and_throttle
Revises: 0014_record_versions
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_sessions_and_throttle'
down_revision = '0014_record_versions'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
