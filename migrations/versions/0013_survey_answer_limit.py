"""questionnaires can take one answer per browser or per invitation

Revision ID: 0013_survey_answer_limit
Revises: 0012_notification_tasks
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_survey_answer_limit'
down_revision = '0012_notification_tasks'
branch_labels = None
depends_on = None


def upgrade():
    # "open" (as before), "browser" (a cookie) or "invitation" (personal links only).
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('answer_limit', sa.String(length=20), server_default='open', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_column('answer_limit')
