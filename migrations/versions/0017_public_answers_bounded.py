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
    # Answers through the public link from one address within an hour (0: no limit), and
    # how many were turned away; each link answer keeps its address as a keyed hash.
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('address_hourly_limit', sa.Integer(), server_default='20', nullable=False)
        )
        batch_op.add_column(
            sa.Column('address_refused', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_key', sa.String(length=64), nullable=True))
        batch_op.create_index(
            'ix_survey_responses_address',
            ['survey_id', 'address_key', 'submitted_at'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_address')
        batch_op.drop_column('address_key')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_column('address_refused')
        batch_op.drop_column('address_hourly_limit')
