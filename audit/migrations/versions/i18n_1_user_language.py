"""the user's interface language

Revision ID: i18n_1
Revises: accounts_1

- user.language: "da", "en" or NULL (the site's language, AUDIT_LANGUAGE)
"""
from alembic import op
import sqlalchemy as sa


revision = "i18n_1"
down_revision = "accounts_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("user", "language")
