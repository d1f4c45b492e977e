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


def upgrade():
    pass


def downgrade():
    pass
