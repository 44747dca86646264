"""Settings from the environment (`WUYE_*`), with embedded defaults under `var/`.

Every component has an embedded default so that `make run` works on a fresh
machine; a URL in the environment selects the real server instead.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED = "embedded"
#: The embedded MQTT broker's port: not 1883, where a system Mosquitto may listen.
EMBEDDED_MQTT_PORT = 18830
#: The embedded ledger node's JSON-RPC port.
EMBEDDED_LEDGER_PORT = 18545
#: The embedded sandbox ledger node's JSON-RPC port.
EMBEDDED_SANDBOX_LEDGER_PORT = 18546
#: ``WUYE_SANDBOX_LEDGER_URL=off``: sandboxes have no ledger (no votes, no fund movements).
OFF = "off"


class Settings(BaseSettings):
    """The effective configuration of one wuye process."""

    model_config = SettingsConfigDict(env_prefix="WUYE_", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="Where embedded defaults keep state.")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite under var/ if empty.")
    mqtt_url: str = Field(default=EMBEDDED, description="mqtt://host:port, or 'embedded'.")
    ledger_url: str = Field(default=EMBEDDED, description="JSON-RPC URL, or 'embedded'.")
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key-encryption key material; generated under var/ if empty.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL the platform is reached at."
    )
    embedded_mqtt_port: int = Field(default=EMBEDDED_MQTT_PORT, description="Embedded broker.")
    embedded_ledger_port: int = Field(default=EMBEDDED_LEDGER_PORT, description="Embedded node.")
    sandbox_ledger_url: str = Field(
        default=EMBEDDED,
        description="The developer sandboxes' own ledger (JSON-RPC URL, 'embedded', or 'off'); "
        "never the platform's.",
    )
    embedded_sandbox_ledger_port: int = Field(
        default=EMBEDDED_SANDBOX_LEDGER_PORT, description="Embedded sandbox ledger node."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    token_ttl_seconds: int = Field(default=900, description="Access token lifetime.")
    refresh_ttl_seconds: int = Field(default=30 * 24 * 3600, description="Refresh token lifetime.")
    registration_token: SecretStr = Field(
        default=SecretStr(""),
        description="Initial access token for RFC 7591 dynamic client registration.",
    )
    token_signing_alg: str = Field(default="ES256", description="ES256, or SM2SM3 for 国密.")
    login_max_failures: int = Field(default=5, description="Failed logins before a lockout.")
    login_lockout_seconds: int = Field(default=300)
    explorer_nodes: str = Field(
        default="",
        description="Other ledger nodes the explorer may read, comma-separated RPC URLs; "
        "'*' for any (a regulator's own machine). The platform's ledger is always allowed.",
    )

    def explorer_allows(self, url: str) -> bool:
        """Whether the explorer may call ``url`` (besides the platform's own ledger)."""
        allowed = {u.strip().rstrip("/") for u in self.explorer_nodes.split(",") if u.strip()}
        return "*" in allowed or url.strip().rstrip("/") in allowed

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'wuye.db').as_posix()}"

    def secret_bytes(self) -> bytes:
        """The platform's master secret, created once under var/ when not configured."""
        value = self.secret_key.get_secret_value()
        if value:
            return value.encode()
        path = self.var_dir / "secret.key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def masked(self) -> dict[str, str]:
        """Effective settings as text, with secrets and URL passwords masked."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                text = "******" if value.get_secret_value() else "(generated under var/)"
            else:
                text = str(value)
            if name == "database_url":
                text = _mask_url_password(self.effective_database_url)
            elif name.endswith("_url"):
                text = _mask_url_password(text)
            out[name] = text
        return out


def _mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a SQLAlchemy URL; mask by hand
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}"
        return url
    return parsed.render_as_string(hide_password=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
