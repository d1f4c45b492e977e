"""service quality actions

Revision ID: 0020_service_quality
Revises: 0019_service_tickets
Create Date: 2026-12-08 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_service_quality'
down_revision = '0019_service_tickets'
branch_labels = None
depends_on = None


def upgrade():
    # Improvement actions on the after-sales quality figures (P5.4): for a department or a
    # person below the standard, followed up in the next period's figures.
    op.create_table(
        'service_improvements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('figure', sa.String(length=20), nullable=False),
        sa.Column('value_then', sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('done_note', sa.Text(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('row_version', sa.Integer(), server_default='1', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['service_departments.id'], name=op.f('fk_service_improvements_department_id_service_departments')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_service_improvements_user_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_improvements_created_by_id_users')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_service_improvements_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_improvements')),
    )
    with op.batch_alter_table('service_improvements', schema=None) as batch_op:
        batch_op.create_index('ix_service_improvements_status', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_improvements_owner_id'), ['owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('service_improvements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_improvements_owner_id'))
        batch_op.drop_index('ix_service_improvements_status')
    op.drop_table('service_improvements')
