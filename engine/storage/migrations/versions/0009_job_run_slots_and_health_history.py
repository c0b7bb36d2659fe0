"""job run slots and health history

Revision ID: 0009
Revises: 0003
Create Date: 2026-11-23 13:11:21.807794
"""

from alembic import op
import sqlalchemy as sa
import engine.storage.types


revision = '0009'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('health_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ts', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('previous', sa.String(length=16), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('health_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_events_ts'), ['ts'], unique=False)

    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.BigInteger(), nullable=True))
        batch_op.create_index('ux_job_runs_job_slot', ['job', 'slot'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ux_job_runs_job_slot')
        batch_op.drop_column('slot')

    with op.batch_alter_table('health_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_events_ts'))

    op.drop_table('health_events')
