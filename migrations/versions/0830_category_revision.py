"""a revision for each category's topic list

Revision ID: 0830
Revises: 0800
Create Date: 2026-11-24 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0830'
down_revision = '0810'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('community_category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('community_category', schema=None) as batch_op:
        batch_op.drop_column('revision')
