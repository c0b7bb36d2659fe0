"""forecast models and forecasts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:10:54.548791
"""

from alembic import op
import sqlalchemy as sa
import engine.storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('trained_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('history_start', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('history_end', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('n_hours', sa.Integer(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('forecast_models', schema=None) as batch_op:
        batch_op.create_index('ix_forecast_models_service_metric', ['service', 'metric', 'id'], unique=False)

    op.create_table('forecasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('wedding_id', sa.Integer(), nullable=True),
    sa.Column('start_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('end_at', engine.storage.types.UTCDateTime(), nullable=False),
    sa.Column('model_versions', sa.Text(), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('evaluated_at', engine.storage.types.UTCDateTime(), nullable=True),
    sa.Column('accuracy', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecasts_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_forecasts_end_evaluated', ['end_at', 'evaluated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forecasts_wedding_id'), ['wedding_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forecasts_wedding_id'))
        batch_op.drop_index('ix_forecasts_end_evaluated')
        batch_op.drop_index(batch_op.f('ix_forecasts_created_at'))

    op.drop_table('forecasts')
    with op.batch_alter_table('forecast_models', schema=None) as batch_op:
        batch_op.drop_index('ix_forecast_models_service_metric')

    op.drop_table('forecast_models')
