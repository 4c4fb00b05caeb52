"""export jobs: the exports page's slow files made in the background

Revision ID: jobs_1
Revises: perf_2

- exportjob: one file of an audit made off the request (state, heartbeat, data version, reason)
- exportjobfile: the finished file's bytes, one row per ready job
"""
from alembic import op
import sqlalchemy as sa


revision = "jobs_1"
down_revision = "perf_2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exportjob",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("audit_id", sa.Integer(), sa.ForeignKey("audit.id"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("data_version", sa.BigInteger(), nullable=True),
        sa.Column("built_with", sa.String(length=64), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_exportjob_audit_kind", "exportjob", ["audit_id", "kind"])
    op.create_table(
        "exportjobfile",
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("exportjob.id"), primary_key=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("exportjobfile")
    op.drop_index("ix_exportjob_audit_kind", table_name="exportjob")
    op.drop_table("exportjob")
