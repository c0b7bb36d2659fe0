"""notification deliveries, metric rollups, alert escalation

Revision ID: 0008
Revises: 0009
Create Date: 2026-11-23 13:13:17.475252
"""

from alembic import op
import sqlalchemy as sa
import engine.storage.types


revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metric_rollups',
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('resolution', sa.String(length=8), nullable=False),
    sa.Column('bucket_ts', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Float(), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('min', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.Column('p95', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('service', 'metric', 'resolution', 'bucket_ts')
    )
    op.create_table('notification_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('alert_ids', sa.Text(), nullable=False),
    sa.Column('created_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('next_attempt_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_attempt_at', engine.storage.types.UTCDateTime(), nullable=True),
    sa.Column('sent_at', engine.storage.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_notification_deliveries_status_due', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', engine.storage.types.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')

    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_deliveries_status_due')

    op.drop_table('notification_deliveries')
    op.drop_table('metric_rollups')
