"""Initial schema: tenancy, OAuth 2, estates, owners, staff; row-level security on PostgreSQL.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuye.platform.rls import enable_row_level_security

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: Tables under row-level security at this revision.
TENANT_TABLES = [
    "adapter_links",
    "adapter_runs",
    "alarms",
    "bill_payments",
    "bills",
    "buildings",
    "credit_adjustments",
    "credit_complaints",
    "credit_regulator_actions",
    "credit_satisfaction_ratings",
    "credit_scores",
    "device_commands",
    "devices",
    "estates",
    "fund_accounts",
    "fund_city_rates",
    "fund_common_parts",
    "fund_entries",
    "fund_movements",
    "fund_project_shares",
    "fund_projects",
    "learned_thresholds",
    "oauth_clients",
    "oauth_tokens",
    "owners",
    "ownerships",
    "readings",
    "sandbox_apps",
    "sandbox_request_log",
    "sandbox_vote_kits",
    "signed_batches",
    "staff",
    "telemetry_messages",
    "tenant_applications",
    "units",
    "users",
    "vote_ballots",
    "vote_credentials",
    "vote_elections",
    "vote_nominations",
    "work_order_events",
    "work_orders",
]


def upgrade() -> None:
    op.create_table(
        "credit_regulator_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("regulator", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_regulator_accounts")),
        sa.UniqueConstraint("regulator", name=op.f("uq_credit_regulator_accounts_regulator")),
    )
    with op.batch_alter_table("credit_regulator_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_regulator_accounts_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "oauth_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oauth_signing_keys")),
    )
    with op.batch_alter_table("oauth_signing_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_signing_keys_active"), ["active"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oauth_signing_keys_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "owner_login_challenges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_login_challenges")),
    )
    with op.batch_alter_table("owner_login_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_owner_login_challenges_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_owner_login_challenges_ip_hash"), ["ip_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_owner_login_challenges_phone_index"), ["phone_index"], unique=False
        )

    op.create_table(
        "sandbox_developers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_developers")),
        sa.UniqueConstraint("username", name=op.f("uq_sandbox_developers_username")),
    )
    with op.batch_alter_table("sandbox_developers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_developers_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "sandbox_mock_records",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "key", name=op.f("pk_sandbox_mock_records")),
    )
    op.create_table(
        "sandbox_rate_counters",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("window", sa.String(length=24), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "window", name=op.f("pk_sandbox_rate_counters")),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("HOST", "MEMBER", "SANDBOX", name="tenantkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "ACTIVE",
                "REJECTED",
                "SUSPENDED",
                name="tenantstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_tenants_credit_code")),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenants_created_at"), ["created_at"], unique=False)

    op.create_table(
        "adapter_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("mapping", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_adapter_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adapter_links")),
        sa.UniqueConstraint(
            "tenant_id", "mapping", "entity", "source_key", name=op.f("uq_adapter_links_tenant_id")
        ),
    )
    with op.batch_alter_table("adapter_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adapter_links_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_adapter_links_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "adapter_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("mapping", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_adapter_runs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adapter_runs")),
    )
    with op.batch_alter_table("adapter_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adapter_runs_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_adapter_runs_mapping"), ["mapping"], unique=False)
        batch_op.create_index(batch_op.f("ix_adapter_runs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "credit_adjustments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("reason_digest", sa.String(length=64), nullable=False),
        sa.Column("regulator", sa.String(length=100), nullable=False),
        sa.Column("regulator_address", sa.String(length=42), nullable=False),
        sa.Column("adjustment_id", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_adjustments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_adjustments")),
    )
    with op.batch_alter_table("credit_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_adjustments_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_adjustments_period"), ["period"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_adjustments_subject_ref"), ["subject_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_adjustments_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "credit_scores",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_scores_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_scores")),
        sa.UniqueConstraint("period", "subject_ref", name=op.f("uq_credit_scores_period")),
    )
    with op.batch_alter_table("credit_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_scores_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_scores_period"), ["period"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_scores_subject_id"), ["subject_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_scores_subject_ref"), ["subject_ref"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_scores_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "estates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_estates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estates")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_estates_tenant_id")),
    )
    with op.batch_alter_table("estates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_estates_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_estates_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_estates_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_estates_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "fund_city_rates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("deposit_fen_per_m2", sa.Integer(), nullable=False),
        sa.Column("threshold_bp", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fund_city_rates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_city_rates")),
        sa.UniqueConstraint("tenant_id", "city", name=op.f("uq_fund_city_rates_tenant_id")),
    )
    with op.batch_alter_table("fund_city_rates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_city_rates_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_city_rates_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("client_secret_hash", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "HOST_ADMIN",
                "TENANT_ADMIN",
                "TENANT_STAFF",
                "OWNER",
                "REGULATOR",
                "DEVELOPER",
                name="role",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("response_types", sa.JSON(), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(length=32), nullable=False),
        sa.Column("client_metadata", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_oauth_clients_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_clients_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oauth_clients_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "owners",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "PERSON",
                "ORGANISATION",
                "DEVELOPER",
                name="ownerkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("phone_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("id_number_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_owners_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owners")),
        sa.UniqueConstraint("tenant_id", "phone_index", name=op.f("uq_owners_tenant_id")),
    )
    with op.batch_alter_table("owners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_owners_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_owners_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_owners_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "sandbox_apps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("developer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("daily_quota", sa.Integer(), nullable=False),
        sa.Column(
            "promotion",
            sa.Enum(
                "NONE",
                "REQUESTED",
                "APPROVED",
                "REJECTED",
                name="promotion",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("promotion_note", sa.String(length=2000), nullable=False),
        sa.Column("promotion_redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("review_reason", sa.String(length=2000), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("production_client_id", sa.String(length=64), nullable=True),
        sa.Column("production_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["sandbox_developers.id"],
            name=op.f("fk_sandbox_apps_developer_id_sandbox_developers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sandbox_apps_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_apps")),
        sa.UniqueConstraint("client_id", name=op.f("uq_sandbox_apps_client_id")),
        sa.UniqueConstraint(
            "production_client_id", name=op.f("uq_sandbox_apps_production_client_id")
        ),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_sandbox_apps_tenant_id")),
    )
    with op.batch_alter_table("sandbox_apps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_apps_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sandbox_apps_developer_id"), ["developer_id"], unique=False
        )

    op.create_table(
        "sandbox_request_log",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sandbox_request_log_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_request_log")),
    )
    with op.batch_alter_table("sandbox_request_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sandbox_request_log_client_created", ["client_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sandbox_request_log_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sandbox_request_log_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "tenant_applications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("contact_phone_masked", sa.String(length=32), nullable=False),
        sa.Column("estates", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "APPROVED",
                "REJECTED",
                name="applicationstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reviewer", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_applications_tenant_id_tenants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_applications")),
    )
    with op.batch_alter_table("tenant_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenant_applications_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tenant_applications_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tenant_applications_status"), ["status"], unique=False)

    op.create_table(
        "buildings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("floors", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_buildings_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_buildings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint("estate_id", "name", name=op.f("uq_buildings_estate_id")),
    )
    with op.batch_alter_table("buildings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buildings_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_buildings_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_buildings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "fund_common_parts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "PARKING",
                "ADVERTISING",
                "LEASING",
                "OTHER",
                name="commoncategory",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("income", sa.Boolean(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_fund_common_parts_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fund_common_parts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_common_parts")),
    )
    with op.batch_alter_table("fund_common_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_common_parts_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_common_parts_estate_id"), ["estate_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fund_common_parts_period"), ["period"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fund_common_parts_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_staff_estate_id_estates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_staff_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "HOST_ADMIN",
                "TENANT_ADMIN",
                "TENANT_STAFF",
                "OWNER",
                "REGULATOR",
                "DEVELOPER",
                name="role",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name=op.f("fk_users_owner_id_owners"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_users_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_owner_id"), ["owner_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_users_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vote_elections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "matter",
            sa.Enum(
                "RULES_OF_PROCEDURE",
                "MANAGEMENT_STATUTE",
                "COMMITTEE",
                "PROPERTY_MANAGER",
                "FUND_USE",
                "FUND_RAISING",
                "REBUILDING",
                "COMMON_PARTS_USE",
                "OTHER_MAJOR",
                name="mattertype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "READY",
                "OPEN",
                "CLOSED",
                "DECIDED",
                name="electionstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("trustee_count", sa.Integer(), nullable=False),
        sa.Column("spend_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("roll", sa.LargeBinary(), nullable=False),
        sa.Column("unit_refs", sa.Text(), nullable=False),
        sa.Column("dealings", sa.Text(), nullable=False),
        sa.Column("ceremony", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("ledger_ref", sa.String(length=80), nullable=False),
        sa.Column("ballots_contract", sa.String(length=42), nullable=False),
        sa.Column("credential_list", sa.LargeBinary(), nullable=False),
        sa.Column("credential_endorsements", sa.Integer(), nullable=False),
        sa.Column("endorsements", sa.Text(), nullable=False),
        sa.Column("tally", sa.Text(), nullable=False),
        sa.Column("shares", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_vote_elections_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_vote_elections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_elections")),
    )
    with op.batch_alter_table("vote_elections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vote_elections_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vote_elections_estate_id"), ["estate_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vote_elections_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vote_elections_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "credit_regulator_actions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_no", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("regulator", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_credit_regulator_actions_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_regulator_actions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_regulator_actions")),
    )
    with op.batch_alter_table("credit_regulator_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_regulator_actions_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_regulator_actions_staff_id"), ["staff_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_regulator_actions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("building_id", sa.String(length=32), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sensitivity", sa.Double(), nullable=False),
        sa.Column("vendor_credentials_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("key_mode", sa.String(length=16), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("master_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("public_key_hex", sa.String(length=130), nullable=True),
        sa.Column("provisioned_at", sa.DateTime(), nullable=True),
        sa.Column("rx_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=True),
        sa.Column("tx_seq", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_devices_building_id_buildings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_devices_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_devices_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_devices_tenant_id")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_type"), ["type"], unique=False)

    op.create_table(
        "fund_projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("common_part", sa.String(length=200), nullable=False),
        sa.Column("contractor", sa.String(length=200), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PROPOSED",
                "VOTING",
                "APPROVED",
                "REJECTED",
                "EMERGENCY",
                "RATIFIED",
                "COMPLETED",
                name="projectstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_sm3", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("election_id", sa.String(length=32), nullable=True),
        sa.Column("ballot_id", sa.Integer(), nullable=True),
        sa.Column("chain_project_id", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("authorised_tx_hash", sa.String(length=66), nullable=False),
        sa.Column("ratified_tx_hash", sa.String(length=66), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["vote_elections.id"],
            name=op.f("fk_fund_projects_election_id_vote_elections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_fund_projects_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fund_projects_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_projects")),
    )
    with op.batch_alter_table("fund_projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_projects_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_projects_election_id"), ["election_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fund_projects_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_projects_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_projects_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "oauth_authorization_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("code_challenge_method", sa.String(length=16), nullable=True),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_authorization_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_authorization_codes_code_hash")),
    )
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "oauth_tokens",
        sa.Column("jti", sa.String(length=32), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_token_hash", sa.String(length=64), nullable=True),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_oauth_tokens_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_oauth_tokens")),
        sa.UniqueConstraint("refresh_token_hash", name=op.f("uq_oauth_tokens_refresh_token_hash")),
    )
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_tokens_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_tokens_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_tokens_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sandbox_vote_kits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("election_id", sa.String(length=32), nullable=False),
        sa.Column("secrets_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["vote_elections.id"],
            name=op.f("fk_sandbox_vote_kits_election_id_vote_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sandbox_vote_kits_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_vote_kits")),
        sa.UniqueConstraint("election_id", name=op.f("uq_sandbox_vote_kits_election_id")),
    )
    with op.batch_alter_table("sandbox_vote_kits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_vote_kits_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sandbox_vote_kits_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "units",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("building_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("floor_area_m2", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("usage", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_units_building_id_buildings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_units_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_units_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("building_id", "number", name=op.f("uq_units_building_id")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_units_tenant_id_id", ["tenant_id", "id"], unique=False)

    op.create_table(
        "alarms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("peak_value", sa.Float(), nullable=False),
        sa.Column("raised_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("cleared_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_alarms_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_alarms_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_alarms_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarms_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_alarms_device_state", ["device_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "bills",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("paid_fen", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=False),
        sa.Column("payment_count", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_bills_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name=op.f("fk_bills_owner_id_owners"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_bills_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_bills_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("tenant_id", "issuer", "external_ref", name=op.f("uq_bills_tenant_id")),
    )
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bills_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bills_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_bills_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bills_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bills_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bills_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bills_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "ix_bills_unit_kind_period", ["unit_id", "kind", "period"], unique=False
        )

    op.create_table(
        "device_commands",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_commands_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_device_commands_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_commands")),
        sa.UniqueConstraint(
            "device_id", "key_version", "seq", name=op.f("uq_device_commands_device_id")
        ),
    )
    with op.batch_alter_table("device_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_commands_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_device_commands_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index("ix_device_commands_status", ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_device_commands_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "fund_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("unit_ref", sa.String(length=64), nullable=False),
        sa.Column("area_hundredths", sa.Integer(), nullable=False),
        sa.Column("first_deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("last_tx_hash", sa.String(length=66), nullable=False),
        sa.Column("last_block", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_fund_accounts_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fund_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_fund_accounts_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_accounts")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_fund_accounts_unit_id")),
    )
    with op.batch_alter_table("fund_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_accounts_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fund_accounts_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_accounts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "fund_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "PURCHASE",
                "TOP_UP",
                "INTEREST",
                "COMMON_INCOME",
                "REPAIR_PAYMENT",
                name="entrykind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("estate_balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.String(length=300), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=True),
        sa.Column("invoice_no", sa.String(length=64), nullable=True),
        sa.Column("invoice_sm3", sa.String(length=64), nullable=True),
        sa.Column("payee", sa.String(length=42), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_fund_entries_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["fund_projects.id"],
            name=op.f("fk_fund_entries_project_id_fund_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fund_entries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_entries")),
    )
    with op.batch_alter_table("fund_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_entries_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fund_entries_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_entries_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_entries_period"), ["period"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fund_entries_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fund_entries_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_entries_tx_hash"), ["tx_hash"], unique=False)

    op.create_table(
        "fund_project_shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("area_hundredths", sa.Integer(), nullable=False),
        sa.Column("share_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["fund_projects.id"],
            name=op.f("fk_fund_project_shares_project_id_fund_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fund_project_shares_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_fund_project_shares_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_project_shares")),
        sa.UniqueConstraint(
            "project_id", "unit_id", name=op.f("uq_fund_project_shares_project_id")
        ),
    )
    with op.batch_alter_table("fund_project_shares", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_project_shares_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_project_shares_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_project_shares_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "learned_thresholds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("median", sa.Float(), nullable=False),
        sa.Column("mad", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_learned_thresholds_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_learned_thresholds_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_thresholds")),
        sa.UniqueConstraint(
            "device_id", "metric", "hour", name=op.f("uq_learned_thresholds_device_id")
        ),
    )
    with op.batch_alter_table("learned_thresholds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_learned_thresholds_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_learned_thresholds_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ownerships",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["owners.id"],
            name=op.f("fk_ownerships_owner_id_owners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ownerships_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_ownerships_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ownerships")),
        sa.UniqueConstraint("unit_id", "owner_id", name=op.f("uq_ownerships_unit_id")),
    )
    with op.batch_alter_table("ownerships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ownerships_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ownerships_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ownerships_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ownerships_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "readings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_readings_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_readings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
    )
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_readings_device_metric_ts", ["device_id", "metric", "ts_ms"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_readings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "signed_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_signed_batches_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_signed_batches_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_batches")),
        sa.UniqueConstraint(
            "device_id", "key_version", "seq", name=op.f("uq_signed_batches_device_id")
        ),
    )
    with op.batch_alter_table("signed_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signed_batches_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_signed_batches_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "telemetry_messages",
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_telemetry_messages_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_telemetry_messages_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "device_id", "key_version", "seq", name=op.f("pk_telemetry_messages")
        ),
    )
    with op.batch_alter_table("telemetry_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_telemetry_messages_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "vote_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("election_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("tracker", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("by_proxy", sa.Boolean(), nullable=False),
        sa.Column("entered_by", sa.String(length=200), nullable=True),
        sa.Column("authorisation", sa.LargeBinary(), nullable=True),
        sa.Column("authorisation_sm3", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["vote_elections.id"],
            name=op.f("fk_vote_ballots_election_id_vote_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["owners.id"],
            name=op.f("fk_vote_ballots_owner_id_owners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_vote_ballots_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_vote_ballots_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_ballots")),
        sa.UniqueConstraint("tracker", name=op.f("uq_vote_ballots_tracker")),
    )
    with op.batch_alter_table("vote_ballots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vote_ballots_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vote_ballots_election_id"), ["election_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vote_ballots_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vote_ballots_superseded"), ["superseded"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vote_ballots_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vote_ballots_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "vote_credentials",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("election_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=130), nullable=False),
        sa.Column(
            "source",
            sa.Enum("OWNER", "AUTHORITY", name="credentialsource", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["vote_elections.id"],
            name=op.f("fk_vote_credentials_election_id_vote_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_vote_credentials_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_vote_credentials_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_credentials")),
        sa.UniqueConstraint("election_id", "unit_id", name=op.f("uq_vote_credentials_election_id")),
    )
    with op.batch_alter_table("vote_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vote_credentials_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vote_credentials_election_id"), ["election_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vote_credentials_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vote_credentials_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "vote_nominations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("election_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("nominee_id", sa.String(length=32), nullable=False),
        sa.Column("nominated_by", sa.String(length=32), nullable=False),
        sa.Column("confirmed_by", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.String(length=200), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["vote_elections.id"],
            name=op.f("fk_vote_nominations_election_id_vote_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nominated_by"],
            ["owners.id"],
            name=op.f("fk_vote_nominations_nominated_by_owners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nominee_id"],
            ["owners.id"],
            name=op.f("fk_vote_nominations_nominee_id_owners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_vote_nominations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_vote_nominations_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_nominations")),
        sa.UniqueConstraint("election_id", "unit_id", name=op.f("uq_vote_nominations_election_id")),
    )
    with op.batch_alter_table("vote_nominations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vote_nominations_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vote_nominations_election_id"), ["election_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vote_nominations_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vote_nominations_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "bill_payments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("bill_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["bills.id"],
            name=op.f("fk_bill_payments_bill_id_bills"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_bill_payments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_payments")),
        sa.UniqueConstraint("bill_id", "reference", name=op.f("uq_bill_payments_bill_id")),
    )
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bill_payments_bill_id"), ["bill_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bill_payments_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "fund_movements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["fund_entries.id"],
            name=op.f("fk_fund_movements_entry_id_fund_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_fund_movements_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_fund_movements_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_fund_movements_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_movements")),
    )
    with op.batch_alter_table("fund_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_movements_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fund_movements_estate_id"), ["estate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_movements_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fund_movements_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "work_orders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("alarm_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("skill", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("respond_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolve_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["alarms.id"],
            name=op.f("fk_work_orders_alarm_id_alarms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff.id"],
            name=op.f("fk_work_orders_assignee_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_work_orders_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_work_orders_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_orders_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_orders_alarm_id"), ["alarm_id"], unique=False)
        batch_op.create_index(
            "ix_work_orders_assignee_status", ["assignee_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_orders_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_device_id"), ["device_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_work_orders_escalate_at"), ["escalate_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_orders_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "credit_complaints",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("work_order_id", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unfounded", sa.Boolean(), nullable=False),
        sa.Column("resident_accepted", sa.Boolean(), nullable=True),
        sa.Column("resolution", sa.String(length=1000), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_credit_complaints_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_credit_complaints_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_complaints_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_credit_complaints_work_order_id_work_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_complaints")),
    )
    with op.batch_alter_table("credit_complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_complaints_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_complaints_estate_id"), ["estate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_complaints_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_complaints_staff_id"), ["staff_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_complaints_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "credit_satisfaction_ratings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("estate_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("work_order_id", sa.String(length=32), nullable=True),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_credit_satisfaction_ratings_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_credit_satisfaction_ratings_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_satisfaction_ratings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_credit_satisfaction_ratings_work_order_id_work_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_satisfaction_ratings")),
    )
    with op.batch_alter_table("credit_satisfaction_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_satisfaction_ratings_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_satisfaction_ratings_estate_id"), ["estate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_satisfaction_ratings_rated_at"), ["rated_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_satisfaction_ratings_staff_id"), ["staff_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_satisfaction_ratings_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "work_order_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("work_order_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_order_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_events_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_order_events_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_work_order_events_work_order_id"), ["work_order_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        enable_row_level_security(op.get_bind(), TENANT_TABLES)


def downgrade() -> None:
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_events_work_order_id"))
        batch_op.drop_index(batch_op.f("ix_work_order_events_tenant_id"))

    op.drop_table("work_order_events")
    with op.batch_alter_table("credit_satisfaction_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_satisfaction_ratings_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_credit_satisfaction_ratings_staff_id"))
        batch_op.drop_index(batch_op.f("ix_credit_satisfaction_ratings_rated_at"))
        batch_op.drop_index(batch_op.f("ix_credit_satisfaction_ratings_estate_id"))
        batch_op.drop_index(batch_op.f("ix_credit_satisfaction_ratings_created_at"))

    op.drop_table("credit_satisfaction_ratings")
    with op.batch_alter_table("credit_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_complaints_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_credit_complaints_staff_id"))
        batch_op.drop_index(batch_op.f("ix_credit_complaints_received_at"))
        batch_op.drop_index(batch_op.f("ix_credit_complaints_estate_id"))
        batch_op.drop_index(batch_op.f("ix_credit_complaints_created_at"))

    op.drop_table("credit_complaints")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_status"))
        batch_op.drop_index(batch_op.f("ix_work_orders_estate_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_escalate_at"))
        batch_op.drop_index(batch_op.f("ix_work_orders_device_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_created_at"))
        batch_op.drop_index("ix_work_orders_assignee_status")
        batch_op.drop_index(batch_op.f("ix_work_orders_alarm_id"))

    op.drop_table("work_orders")
    with op.batch_alter_table("fund_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_movements_unit_id"))
        batch_op.drop_index(batch_op.f("ix_fund_movements_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_fund_movements_estate_id"))
        batch_op.drop_index(batch_op.f("ix_fund_movements_entry_id"))

    op.drop_table("fund_movements")
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_payments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_bill_payments_bill_id"))

    op.drop_table("bill_payments")
    with op.batch_alter_table("vote_nominations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_nominations_unit_id"))
        batch_op.drop_index(batch_op.f("ix_vote_nominations_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_vote_nominations_election_id"))
        batch_op.drop_index(batch_op.f("ix_vote_nominations_created_at"))

    op.drop_table("vote_nominations")
    with op.batch_alter_table("vote_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_credentials_unit_id"))
        batch_op.drop_index(batch_op.f("ix_vote_credentials_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_vote_credentials_election_id"))
        batch_op.drop_index(batch_op.f("ix_vote_credentials_created_at"))

    op.drop_table("vote_credentials")
    with op.batch_alter_table("vote_ballots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_ballots_unit_id"))
        batch_op.drop_index(batch_op.f("ix_vote_ballots_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_vote_ballots_superseded"))
        batch_op.drop_index(batch_op.f("ix_vote_ballots_owner_id"))
        batch_op.drop_index(batch_op.f("ix_vote_ballots_election_id"))
        batch_op.drop_index(batch_op.f("ix_vote_ballots_created_at"))

    op.drop_table("vote_ballots")
    with op.batch_alter_table("telemetry_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telemetry_messages_tenant_id"))

    op.drop_table("telemetry_messages")
    with op.batch_alter_table("signed_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signed_batches_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_signed_batches_device_id"))

    op.drop_table("signed_batches")
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_readings_tenant_id"))
        batch_op.drop_index("ix_readings_device_metric_ts")

    op.drop_table("readings")
    with op.batch_alter_table("ownerships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ownerships_unit_id"))
        batch_op.drop_index(batch_op.f("ix_ownerships_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ownerships_owner_id"))
        batch_op.drop_index(batch_op.f("ix_ownerships_created_at"))

    op.drop_table("ownerships")
    with op.batch_alter_table("learned_thresholds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_thresholds_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_learned_thresholds_device_id"))

    op.drop_table("learned_thresholds")
    with op.batch_alter_table("fund_project_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_project_shares_unit_id"))
        batch_op.drop_index(batch_op.f("ix_fund_project_shares_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_fund_project_shares_project_id"))

    op.drop_table("fund_project_shares")
    with op.batch_alter_table("fund_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_entries_tx_hash"))
        batch_op.drop_index(batch_op.f("ix_fund_entries_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_fund_entries_project_id"))
        batch_op.drop_index(batch_op.f("ix_fund_entries_period"))
        batch_op.drop_index(batch_op.f("ix_fund_entries_kind"))
        batch_op.drop_index(batch_op.f("ix_fund_entries_estate_id"))
        batch_op.drop_index(batch_op.f("ix_fund_entries_created_at"))

    op.drop_table("fund_entries")
    with op.batch_alter_table("fund_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_accounts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_fund_accounts_estate_id"))
        batch_op.drop_index(batch_op.f("ix_fund_accounts_created_at"))

    op.drop_table("fund_accounts")
    with op.batch_alter_table("device_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_commands_tenant_id"))
        batch_op.drop_index("ix_device_commands_status")
        batch_op.drop_index(batch_op.f("ix_device_commands_device_id"))
        batch_op.drop_index(batch_op.f("ix_device_commands_created_at"))

    op.drop_table("device_commands")
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.drop_index("ix_bills_unit_kind_period")
        batch_op.drop_index(batch_op.f("ix_bills_unit_id"))
        batch_op.drop_index(batch_op.f("ix_bills_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_bills_status"))
        batch_op.drop_index(batch_op.f("ix_bills_owner_id"))
        batch_op.drop_index(batch_op.f("ix_bills_estate_id"))
        batch_op.drop_index(batch_op.f("ix_bills_due_date"))
        batch_op.drop_index(batch_op.f("ix_bills_created_at"))

    op.drop_table("bills")
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_alarms_state"))
        batch_op.drop_index(batch_op.f("ix_alarms_severity"))
        batch_op.drop_index(batch_op.f("ix_alarms_estate_id"))
        batch_op.drop_index("ix_alarms_device_state")
        batch_op.drop_index(batch_op.f("ix_alarms_created_at"))

    op.drop_table("alarms")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index("ix_units_tenant_id_id")
        batch_op.drop_index(batch_op.f("ix_units_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_units_estate_id"))
        batch_op.drop_index(batch_op.f("ix_units_created_at"))
        batch_op.drop_index(batch_op.f("ix_units_building_id"))

    op.drop_table("units")
    with op.batch_alter_table("sandbox_vote_kits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_vote_kits_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_sandbox_vote_kits_created_at"))

    op.drop_table("sandbox_vote_kits")
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_family_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_client_id"))

    op.drop_table("oauth_tokens")
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_authorization_codes_created_at"))
        batch_op.drop_index(batch_op.f("ix_oauth_authorization_codes_client_id"))

    op.drop_table("oauth_authorization_codes")
    with op.batch_alter_table("fund_projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_projects_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_fund_projects_status"))
        batch_op.drop_index(batch_op.f("ix_fund_projects_estate_id"))
        batch_op.drop_index(batch_op.f("ix_fund_projects_election_id"))
        batch_op.drop_index(batch_op.f("ix_fund_projects_created_at"))

    op.drop_table("fund_projects")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_type"))
        batch_op.drop_index(batch_op.f("ix_devices_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_devices_estate_id"))
        batch_op.drop_index(batch_op.f("ix_devices_created_at"))
        batch_op.drop_index(batch_op.f("ix_devices_building_id"))

    op.drop_table("devices")
    with op.batch_alter_table("credit_regulator_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_regulator_actions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_credit_regulator_actions_staff_id"))
        batch_op.drop_index(batch_op.f("ix_credit_regulator_actions_created_at"))

    op.drop_table("credit_regulator_actions")
    with op.batch_alter_table("vote_elections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_elections_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_vote_elections_status"))
        batch_op.drop_index(batch_op.f("ix_vote_elections_estate_id"))
        batch_op.drop_index(batch_op.f("ix_vote_elections_created_at"))

    op.drop_table("vote_elections")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_users_owner_id"))
        batch_op.drop_index(batch_op.f("ix_users_created_at"))

    op.drop_table("users")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_staff_name"))
        batch_op.drop_index(batch_op.f("ix_staff_estate_id"))
        batch_op.drop_index(batch_op.f("ix_staff_created_at"))

    op.drop_table("staff")
    with op.batch_alter_table("fund_common_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_common_parts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_fund_common_parts_period"))
        batch_op.drop_index(batch_op.f("ix_fund_common_parts_estate_id"))
        batch_op.drop_index(batch_op.f("ix_fund_common_parts_created_at"))

    op.drop_table("fund_common_parts")
    with op.batch_alter_table("buildings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buildings_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_buildings_estate_id"))
        batch_op.drop_index(batch_op.f("ix_buildings_created_at"))

    op.drop_table("buildings")
    with op.batch_alter_table("tenant_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenant_applications_status"))
        batch_op.drop_index(batch_op.f("ix_tenant_applications_credit_code"))
        batch_op.drop_index(batch_op.f("ix_tenant_applications_created_at"))

    op.drop_table("tenant_applications")
    with op.batch_alter_table("sandbox_request_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_request_log_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_sandbox_request_log_created_at"))
        batch_op.drop_index("ix_sandbox_request_log_client_created")

    op.drop_table("sandbox_request_log")
    with op.batch_alter_table("sandbox_apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_apps_developer_id"))
        batch_op.drop_index(batch_op.f("ix_sandbox_apps_created_at"))

    op.drop_table("sandbox_apps")
    with op.batch_alter_table("owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_owners_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_owners_name"))
        batch_op.drop_index(batch_op.f("ix_owners_created_at"))

    op.drop_table("owners")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_clients_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_clients_created_at"))

    op.drop_table("oauth_clients")
    with op.batch_alter_table("fund_city_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_city_rates_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_fund_city_rates_created_at"))

    op.drop_table("fund_city_rates")
    with op.batch_alter_table("estates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_estates_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_estates_name"))
        batch_op.drop_index(batch_op.f("ix_estates_created_at"))
        batch_op.drop_index(batch_op.f("ix_estates_city"))

    op.drop_table("estates")
    with op.batch_alter_table("credit_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_scores_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_credit_scores_subject_ref"))
        batch_op.drop_index(batch_op.f("ix_credit_scores_subject_id"))
        batch_op.drop_index(batch_op.f("ix_credit_scores_period"))
        batch_op.drop_index(batch_op.f("ix_credit_scores_created_at"))

    op.drop_table("credit_scores")
    with op.batch_alter_table("credit_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_adjustments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_credit_adjustments_subject_ref"))
        batch_op.drop_index(batch_op.f("ix_credit_adjustments_period"))
        batch_op.drop_index(batch_op.f("ix_credit_adjustments_created_at"))

    op.drop_table("credit_adjustments")
    with op.batch_alter_table("adapter_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adapter_runs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_adapter_runs_mapping"))
        batch_op.drop_index(batch_op.f("ix_adapter_runs_created_at"))

    op.drop_table("adapter_runs")
    with op.batch_alter_table("adapter_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adapter_links_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_adapter_links_created_at"))

    op.drop_table("adapter_links")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenants_created_at"))

    op.drop_table("tenants")
    op.drop_table("sandbox_rate_counters")
    op.drop_table("sandbox_mock_records")
    with op.batch_alter_table("sandbox_developers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_developers_created_at"))

    op.drop_table("sandbox_developers")
    with op.batch_alter_table("owner_login_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_owner_login_challenges_phone_index"))
        batch_op.drop_index(batch_op.f("ix_owner_login_challenges_ip_hash"))
        batch_op.drop_index(batch_op.f("ix_owner_login_challenges_created_at"))

    op.drop_table("owner_login_challenges")
    with op.batch_alter_table("oauth_signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_signing_keys_created_at"))
        batch_op.drop_index(batch_op.f("ix_oauth_signing_keys_active"))

    op.drop_table("oauth_signing_keys")
    op.drop_table("login_throttles")
    with op.batch_alter_table("credit_regulator_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_regulator_accounts_created_at"))

    op.drop_table("credit_regulator_accounts")
