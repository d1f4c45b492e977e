"""records carry a version; create forms a one-time token

Revision ID: 0014_record_versions
Revises: 0013_survey_answer_limit
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_record_versions'
down_revision = '0013_survey_answer_limit'
branch_labels = None
depends_on = None


# Every table whose model has VersionedMixin (models/base.py).
VERSIONED = (
    "brand_strategies", "activities", "activity_tasks", "contracts", "contract_milestones",
    "budgets", "expense_claims", "groups", "posts", "policy_chapters", "training_records",
    "research_plans", "research_milestones", "research_field_notes", "surveys", "survey_questions",
    "research_reports", "competitors", "industry_news", "market_figures", "customers",
    "contacts", "products", "opportunities", "interactions",
)


def upgrade():
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('row_version', sa.Integer(), server_default='1', nullable=False)
            )
    op.create_table(
        'form_submissions',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_form_submissions')),
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submissions_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_at'))
    op.drop_table('form_submissions')
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('row_version')
