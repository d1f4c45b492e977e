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
    # once_key: what a job's notice is about and which day ("followup:42:2026-12-07");
    # a user has at most one notice of a key (NULLs, every other notice, never clash).
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('once_key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint('uq_notifications_once', ['user_id', 'once_key'])


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notifications_once', type_='unique')
        batch_op.drop_column('once_key')
