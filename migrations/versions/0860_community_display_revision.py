"""a revision for what community pages show of members and categories

Revision ID: 0860
Revises: 0830
Create Date: 2026-11-24 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0860'
down_revision = '0830'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'community_display_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_display_revision')),
    )
    # The one row every community ETag reads and every display change bumps.
    op.bulk_insert(table, [{'id': 1, 'revision': 1}])


def downgrade():
    op.drop_table('community_display_revision')
