"""an index for the dashboard's count of unanswered topics

Revision ID: 0870
Revises: 0830
Create Date: 2026-11-24 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0870'
down_revision = '0830'
branch_labels = None
depends_on = None

UNANSWERED = sa.text("state = 'visible' AND reply_count = 0")


def upgrade():
    op.create_index(
        'ix_community_topic_unanswered',
        'community_topic',
        ['created_at'],
        unique=False,
        postgresql_where=UNANSWERED,
        sqlite_where=UNANSWERED,
    )


def downgrade():
    op.drop_index('ix_community_topic_unanswered', table_name='community_topic')
