"""competitor market share as a decimal percentage

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # A rate is kept exact (Numeric), like money; the float column held estimates 0-100.
    with op.batch_alter_table('competitors', schema=None) as batch_op:
        batch_op.alter_column(
            'market_share',
            existing_type=sa.Float(),
            type_=sa.Numeric(precision=5, scale=2),
            existing_nullable=True,
        )


def downgrade():
    with op.batch_alter_table('competitors', schema=None) as batch_op:
        batch_op.alter_column(
            'market_share',
            existing_type=sa.Numeric(precision=5, scale=2),
            type_=sa.Float(),
            existing_nullable=True,
        )
