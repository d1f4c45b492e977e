"""notifications name their task and are resolved when it is done

Revision ID: 0012_notification_tasks
Revises: 0011
Create Date: 2026-12-07 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_notification_tasks'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # task: what the notice asks for ("approval_step:42"); the approval engine resolves
    # every notice of a task when the step is decided or its request ends.
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task', sa.String(length=60), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_notifications_task', ['task'], unique=False)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('task', server_default=None)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_task')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('task')
