"""backups manifest

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
import engine.storage.types


revision = '0004'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('backups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('dialect', sa.String(length=16), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('row_counts', sa.Text(), nullable=False),
    sa.Column('audit_last_id', sa.Integer(), nullable=False),
    sa.Column('audit_last_hash', sa.String(length=64), nullable=False),
    sa.Column('dump_s', sa.Float(), nullable=False),
    sa.Column('verified_at', engine.storage.types.UTCDateTime(), nullable=True),
    sa.Column('verify_ok', sa.Boolean(), nullable=True),
    sa.Column('verify_detail', sa.Text(), nullable=False),
    sa.Column('restore_s', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('backups', schema=None) as batch_op:
        batch_op.create_index('ix_backups_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('backups', schema=None) as batch_op:
        batch_op.drop_index('ix_backups_created_at')

    op.drop_table('backups')