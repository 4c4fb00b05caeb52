"""person: drop the single-column index on audit_id; registersnapshot.imported_at with time zone

Every query of the persons of an audit can use the leading column of the unique
(audit_id, person_id) index or of ix_person_stratum; the third index only made each of the
register import's million inserts update one more B-tree (about a fifth of the insert time).

register_1 created registersnapshot.imported_at as a timestamp without time zone, unlike every
other timestamp of the schema (and the model); on PostgreSQL it is now `timestamptz` as well
(tests/test_migrations_match_models.py compares the migrated schema with the models).

Revision ID: perf_2
Revises: register_1
"""
from alembic import op
import sqlalchemy as sa


revision = "perf_2"
down_revision = "register_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_audit_id")
    if op.get_bind().dialect.name == "postgresql":   # SQLite keeps no time zone in its type
        op.alter_column("registersnapshot", "imported_at", type_=sa.DateTime(timezone=True),
                        existing_type=sa.DateTime(), existing_nullable=False,
                        postgresql_using="imported_at AT TIME ZONE 'UTC'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("registersnapshot", "imported_at", type_=sa.DateTime(), existing_nullable=False,
                        existing_type=sa.DateTime(timezone=True),
                        postgresql_using="imported_at AT TIME ZONE 'UTC'")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index("ix_person_audit_id", ["audit_id"], unique=False)
