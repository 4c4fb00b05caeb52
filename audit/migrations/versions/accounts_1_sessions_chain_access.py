"""server-side sessions, login throttling, hash-chained trail, access log

Revision ID: accounts_1
Revises: 0001

- usersession: server-side sessions (the cookie carries a random id, its sha256 is stored here)
- loginfailure, loginlock: throttling of failed log-ins per account name and per client address
- auditlog.prev_hash / entry_hash: the hash chain, back-filled for existing entries
- logchain: the head of each chain (auditlog, accesslog), taken by every writer
- accesslog, accesscase: every use of personal data, append-only with its own chain
- triggers: accesslog and accesscase append-only like auditlog; on SQLite an INSERT that
  would replace an existing id is refused (INSERT OR REPLACE); on PostgreSQL TRUNCATE of the
  log tables is refused by a trigger too (the app role also lacks the privilege: `audit db grant`)
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "accounts_1"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
LOG_TABLES = ("auditlog", "accesslog", "accesscase")


def _sqlite_guards(table: str, key: str, with_update_delete: bool) -> None:
    if with_update_delete:
        op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    where = " AND ".join(f"{c} = NEW.{c}" for c in key.split(","))
    op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
               f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {where}) "
               f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "usersession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_usersession_token_hash", "usersession", ["token_hash"], unique=True)
    op.create_index("ix_usersession_user_id", "usersession", ["user_id"], unique=False)

    op.create_table(
        "loginfailure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loginfailure_username_at", "loginfailure", ["username", "at"], unique=False)
    op.create_index("ix_loginfailure_address_at", "loginfailure", ["address", "at"], unique=False)

    op.create_table(
        "loginlock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loginlock_key", "loginlock", ["kind", "key"], unique=False)

    op.create_table(
        "logchain",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    op.create_table(
        "accesslog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("what", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("population", sa.Boolean(), nullable=False),
        sa.Column("n_cases", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("entry_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_accesslog_at", "accesslog", ["at"], unique=False)
    op.create_index("ix_accesslog_audit_id", "accesslog", ["audit_id"], unique=False)

    op.create_table(
        "accesscase",
        sa.Column("access_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["access_id"], ["accesslog.id"]),
        sa.PrimaryKeyConstraint("access_id", "case_id"),
    )
    op.create_index("ix_accesscase_person_id", "accesscase", ["person_id"], unique=False)

    # The hash chain of the existing trail: add the columns (plain ADD COLUMN, which keeps
    # SQLite's triggers), back-fill them in id order with the triggers briefly off.
    op.add_column("auditlog", sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column("auditlog", sa.Column("entry_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    last_id, last_hash = _backfill(dialect)
    chain = sa.table("logchain", sa.column("name", sa.String), sa.column("last_id", sa.Integer),
                     sa.column("last_hash", sa.String))
    op.bulk_insert(chain, [{"name": "auditlog", "last_id": last_id, "last_hash": last_hash},
                           {"name": "accesslog", "last_id": 0, "last_hash": GENESIS}])

    if dialect == "sqlite":
        _sqlite_guards("auditlog", "id", with_update_delete=False)  # UPDATE/DELETE: revision 0001
        _sqlite_guards("accesslog", "id", with_update_delete=True)
        _sqlite_guards("accesscase", "access_id,case_id", with_update_delete=True)
    else:
        op.execute("CREATE FUNCTION log_append_only() RETURNS trigger AS $$ "
                   "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql")
        for table in ("accesslog", "accesscase"):
            op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION log_append_only()")
        for table in LOG_TABLES:
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION log_append_only()")


def _backfill(dialect: str) -> tuple[int, str]:
    from audit.auditlog import AUDIT_FIELDS, entry_hash

    bind = op.get_bind()
    log = sa.table("auditlog", sa.column("id", sa.Integer), sa.column("at", sa.DateTime(timezone=True)),
                   *(sa.column(f, sa.Integer) for f in ("user_id", "audit_id")),
                   *(sa.column(f, sa.Text) for f in ("username", "entity", "entity_id", "field", "old_value",
                                                      "new_value", "reason", "prev_hash", "entry_hash")))
    rows = bind.execute(sa.select(*(log.c[f] for f in AUDIT_FIELDS)).order_by(log.c.id)).mappings().all()
    prev, last_id = GENESIS, 0
    if not rows:
        return last_id, prev
    if dialect == "sqlite":
        op.execute("DROP TRIGGER auditlog_no_update")
    else:
        op.execute("ALTER TABLE auditlog DISABLE TRIGGER auditlog_no_change")
    for row in rows:
        digest = entry_hash(dict(row), prev)
        bind.execute(log.update().where(log.c.id == row["id"]).values(prev_hash=prev, entry_hash=digest))
        prev, last_id = digest, row["id"]
    if dialect == "sqlite":
        op.execute("CREATE TRIGGER auditlog_no_update BEFORE UPDATE ON auditlog "
                   "BEGIN SELECT RAISE(ABORT, 'auditlog is append-only'); END")
    else:
        op.execute("ALTER TABLE auditlog ENABLE TRIGGER auditlog_no_change")
    return last_id, prev


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("auditlog_no_replace", "accesslog_no_update", "accesslog_no_delete", "accesslog_no_replace",
                     "accesscase_no_update", "accesscase_no_delete", "accesscase_no_replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table in LOG_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        for table in ("accesslog", "accesscase"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
    op.drop_table("accesscase")
    op.drop_table("accesslog")
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS log_append_only()")
    op.drop_table("logchain")
    op.drop_table("loginlock")
    op.drop_table("loginfailure")
    op.drop_table("usersession")
    # SQLite cannot drop a column without rebuilding the table (and its triggers); the two
    # hash columns stay there, unused, after a downgrade.
    if dialect != "sqlite":
        op.drop_column("auditlog", "entry_hash")
        op.drop_column("auditlog", "prev_hash")
