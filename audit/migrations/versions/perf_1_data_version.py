"""audit.data_version: the key of the cached case frame

Revision ID: perf_1
Revises: i18n_1
"""
from alembic import op
import sqlalchemy as sa


revision = "perf_1"
down_revision = "i18n_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_version", sa.BigInteger(), nullable=False, server_default="0"))
    # existing audits get a token of their own, so two copies of a database never share one
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE audit SET data_version = 1 + floor(random() * 4611686018427387903)::bigint")
    else:
        op.execute("UPDATE audit SET data_version = 1 + (abs(random()) % 4611686018427387903)")


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_column("data_version")
