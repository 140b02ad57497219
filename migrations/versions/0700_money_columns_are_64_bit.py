"""money columns are 64-bit

Amounts in minor units were 32-bit INTEGER on PostgreSQL: an order over 21 million (two
decimals) or a customer's 12-month spend past it overflowed the column. SQLite's INTEGER is
64-bit already, so only PostgreSQL changes.

Revision ID: 0700
Revises: 0300
Create Date: 2026-11-25 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0700'
down_revision = '0300'
branch_labels = None
depends_on = None

COLUMNS = [
    ('order', 'subtotal_minor'),
    ('order', 'shipping_minor'),
    ('order', 'tax_minor'),
    ('order', 'total_minor'),
    ('order_item', 'unit_price_minor'),
    ('customer_value', 'spend_12m_minor'),
    ('customer_value', 'average_order_minor'),
]


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, column in COLUMNS:
        op.alter_column(
            table, column, existing_type=sa.Integer(), type_=sa.BigInteger(),
            existing_nullable=False,
        )


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, column in COLUMNS:
        op.alter_column(
            table, column, existing_type=sa.BigInteger(), type_=sa.Integer(),
            existing_nullable=False,
        )
