"""an index for the dashboard's count of unanswered topics

Revision ID: 0870
Revises: 0860
Create Date: 2026-11-24 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0870'
down_revision = '0860'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_community_topic_unanswered',
        'community_topic',
        ['state', 'reply_count', 'created_at'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_community_topic_unanswered', table_name='community_topic')
