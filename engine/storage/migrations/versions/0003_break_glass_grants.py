"""break-glass grants

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:38:00.462060
"""

from alembic import op
import sqlalchemy as sa
import engine.storage.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('breakglass_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('started_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', engine.storage.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('breakglass_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breakglass_grants_user_id'), ['user_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('breakglass_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breakglass_grants_user_id'))

    op.drop_table('breakglass_grants')

