"""scale orders and pins

Revision ID: 0006
Revises: 0008
Create Date: 2026-11-23 13:11:07.251427
"""

from alembic import op
import sqlalchemy as sa
import engine.storage.types


revision = '0006'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scale_pins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('pinned_until', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('released_at', engine.storage.types.UTCDateTime(), nullable=True),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scale_pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scale_pins_service'), ['service'], unique=False)

    op.create_table('scale_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=80), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('rollback_to', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('deadline_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    with op.batch_alter_table('scale_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scale_orders_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scale_orders_service'), ['service'], unique=False)
        batch_op.create_index('ix_scale_orders_status', ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scale_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_scale_orders_status')
        batch_op.drop_index(batch_op.f('ix_scale_orders_service'))
        batch_op.drop_index(batch_op.f('ix_scale_orders_decision_id'))

    op.drop_table('scale_orders')
    with op.batch_alter_table('scale_pins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scale_pins_service'))

    op.drop_table('scale_pins')
