"""work calendar

Revision ID: 0018_work_calendar
Revises: 0017_public_answers_bounded
Create Date: 2026-12-08 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_work_calendar'
down_revision = '0017_public_answers_bounded'
branch_labels = None
depends_on = None


def upgrade():
    # The company working calendar (core/workcal.py): the weekly working time, one row per
    # interval of a weekday (minutes after local midnight; no rows: the default week), and
    # the dates that differ from their weekday (statutory holidays, 调休 make-up days).
    op.create_table(
        'work_hours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('start_minute', sa.Integer(), nullable=False),
        sa.Column('end_minute', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_work_hours')),
        sa.UniqueConstraint('weekday', 'start_minute', name='uq_work_hours_start'),
    )
    op.create_table(
        'calendar_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'], name=op.f('fk_calendar_days_created_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_days')),
        sa.UniqueConstraint('day', name=op.f('uq_calendar_days_day')),
    )


def downgrade():
    op.drop_table('calendar_days')
    op.drop_table('work_hours')
