"""register variables: the audit's frozen register definition, every declared column, snapshots

Revision ID: register_1
Revises: perf_1

- audit.register_name / register_version / register_json: the definition the audit is bound to
- person.values_json: the declared optional variables of the extract, one JSON object per person
- registersnapshot, snapshotperson: further extracts at other dates (--as-of), persons by id
"""
from alembic import op
import sqlalchemy as sa


revision = "register_1"
down_revision = "perf_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("register_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("register_version", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("register_json", sa.Text(), nullable=True))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("values_json", sa.Text(), nullable=True))
    op.create_table(
        "registersnapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("audit_id", sa.Integer(), sa.ForeignKey("audit.id"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("audit_id", "as_of"),
    )
    op.create_index("ix_registersnapshot_audit_id", "registersnapshot", ["audit_id"])
    op.create_table(
        "snapshotperson",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("registersnapshot.id"), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("municipality", sa.String(length=80), nullable=False),
        sa.Column("values_json", sa.Text(), nullable=True),
        sa.UniqueConstraint("snapshot_id", "person_id"),
    )
    op.create_index("ix_snapshotperson_snapshot_id", "snapshotperson", ["snapshot_id"])


def downgrade() -> None:
    op.drop_index("ix_snapshotperson_snapshot_id", table_name="snapshotperson")
    op.drop_table("snapshotperson")
    op.drop_index("ix_registersnapshot_audit_id", table_name="registersnapshot")
    op.drop_table("registersnapshot")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("values_json")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_column("register_json")
        batch_op.drop_column("register_version")
        batch_op.drop_column("register_name")
