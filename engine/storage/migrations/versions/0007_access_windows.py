"""access windows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 13:11:56.437865
"""

from alembic import op
import sqlalchemy as sa
import engine.storage.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('days', sa.String(length=16), nullable=False),
    sa.Column('start_time', sa.String(length=5), nullable=False),
    sa.Column('end_time', sa.String(length=5), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_windows', schema=None) as batch_op:
        batch_op.create_index('ix_access_windows_subject', ['subject_kind', 'subject'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('access_windows', schema=None) as batch_op:
        batch_op.drop_index('ix_access_windows_subject')

    op.drop_table('access_windows')
