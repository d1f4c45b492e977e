"""claims list indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 05:30:00.000000

The expense claims list with tens of thousands of claims: its default order
(newest date first) walks ix_expense_claims_list instead of sorting every claim;
with a status filter it walks ix_expense_claims_status_list, from which the totals
by status are also read alone (a covering index).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expense_claims', schema=None) as batch_op:
        batch_op.create_index('ix_expense_claims_list', ['incurred_on', 'id'], unique=False)
        batch_op.create_index(
            'ix_expense_claims_status_list',
            ['status', 'archived_at', 'incurred_on', 'id', 'amount'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('expense_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_expense_claims_status_list')
        batch_op.drop_index('ix_expense_claims_list')
