"""Typed settings built from ARCHIVE_* environment variables, validated at start-up."""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from archive.errors import ConfigurationError

StoreKind = Literal["local", "s3"]
# Exact origins only: a wildcard would let pages of sites nobody vetted read the answers.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")
_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^\s?#]*)?")
# A bucket's name (S3's rules, loosely) and a prefix ending in / (or none).
_S3_PREFIX = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(?:[^\x00-\x1f]*/)?")
WATCH_SIDECARS = ("none", "json", "csv")
GIB = 1 << 30
MIB = 1 << 20


# A secret setting may instead name a file that holds its value: `<VARIABLE>_FILE`, the way
# Docker and Kubernetes hand secrets over, so the value is in no process's environment.
FILE_SUFFIX = "_FILE"


def _doc(env: str, text: str, *, secret: bool = False) -> dict[str, Any]:
    return {"env": env, "doc": text, "secret": secret}


@dataclass(frozen=True)
class Settings:
    """Every setting; each field names its environment variable and says what it does."""

    data_dir: Path = field(
        default=Path("archive-data"),
        metadata=_doc(
            "ARCHIVE_DATA_DIR",
            "Directory of the embedded default: SQLite file, local objects and key file live here.",
        ),
    )
    database_url: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_DATABASE_URL",
            "SQLAlchemy URL of the metadata database, e.g. "
            "`postgresql+psycopg://archive@db/archive`. Default: `sqlite:///<data_dir>/archive.db`.",
            secret=True,
        ),
    )
    database_pool_size: int = field(
        default=20,
        metadata=_doc(
            "ARCHIVE_DATABASE_POOL_SIZE",
            "Connections to PostgreSQL each process keeps open and reuses (ten more are opened "
            "for a burst and closed after it). At least the requests a process serves at once, "
            "or each request past it opens and closes a connection of its own; PostgreSQL's "
            "`max_connections` must cover every process's pool and burst.",
        ),
    )
    store: StoreKind = field(
        default="local",
        metadata=_doc("ARCHIVE_STORE", "Object store backend: `local` (a directory) or `s3`."),
    )
    store_path: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_STORE_PATH",
            "Root directory of the local store. Default: `<data_dir>/objects`.",
        ),
    )
    s3_endpoint: str | None = field(
        default=None,
        metadata=_doc("ARCHIVE_S3_ENDPOINT", "S3/MinIO endpoint as `host:port` (no scheme)."),
    )
    s3_access_key: str | None = field(
        default=None, metadata=_doc("ARCHIVE_S3_ACCESS_KEY", "S3 access key.", secret=True)
    )
    s3_secret_key: str | None = field(
        default=None, metadata=_doc("ARCHIVE_S3_SECRET_KEY", "S3 secret key.", secret=True)
    )
    s3_bucket: str = field(
        default="contact-archive",
        metadata=_doc("ARCHIVE_S3_BUCKET", "Bucket for encrypted objects; created if missing."),
    )
    s3_secure: bool = field(
        default=True, metadata=_doc("ARCHIVE_S3_SECURE", "Use HTTPS to reach the S3 endpoint.")
    )
    s3_region: str | None = field(
        default=None, metadata=_doc("ARCHIVE_S3_REGION", "S3 region, if the endpoint needs one.")
    )
    s3_object_lock: bool = field(
        default=False,
        metadata=_doc(
            "ARCHIVE_S3_OBJECT_LOCK",
            "Create the bucket with S3 Object Lock; held contacts' objects then also get an "
            "object legal hold. Takes effect only when the archive creates the bucket.",
        ),
    )
    key_file: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_KEY_FILE",
            "Key file (key-encryption keys, blind-index key). Default: `<data_dir>/keys.json`.",
        ),
    )
    keys_json: str | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_KEYS",
            "The key file's JSON itself, e.g. from a secret store; wins over ARCHIVE_KEY_FILE.",
            secret=True,
        ),
    )
    segment_size: int = field(
        default=MIB,
        metadata=_doc(
            "ARCHIVE_SEGMENT_SIZE",
            "Ciphertext segment size in bytes for new objects (the unit of random access).",
        ),
    )
    max_upload_bytes: int = field(
        default=2 * GIB,
        metadata=_doc("ARCHIVE_MAX_UPLOAD_BYTES", "Largest accepted recording, in bytes."),
    )
    max_message_bytes: int = field(
        # Parsing holds a message several times over in memory; 25 MiB is what mail servers
        # commonly accept, so nothing real is refused.
        default=25 * MIB,
        metadata=_doc(
            "ARCHIVE_MAX_MESSAGE_BYTES", "Largest accepted e-mail or chat transcript, in bytes."
        ),
    )
    phone_region: str = field(
        default="FI",
        metadata=_doc(
            "ARCHIVE_PHONE_REGION",
            "Region assumed for phone numbers written without a country code.",
        ),
    )
    orphan_grace_seconds: int = field(
        default=86400,
        metadata=_doc(
            "ARCHIVE_ORPHAN_GRACE_SECONDS",
            "Age an unreferenced object must reach, and how long an unfinished upload must have "
            "been idle, before `archive check --repair` removes it.",
        ),
    )
    policy: str = field(
        default="default",
        metadata=_doc(
            "ARCHIVE_POLICY",
            "Retention policy in force: a preset (`default`, `kivra`, `vastuu`) or the path of a "
            "TOML policy file; `archive policy show` prints it.",
        ),
    )
    host: str = field(default="127.0.0.1", metadata=_doc("ARCHIVE_HOST", "Address the API binds."))
    port: int = field(default=8000, metadata=_doc("ARCHIVE_PORT", "Port the API listens on."))
    workers: int | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_WORKERS",
            "Server processes `archive serve` runs (`--workers`). Unset: one per CPU, or one "
            "on SQLite, which writes one transaction at a time whatever the processes.",
        ),
    )
    broker_url: str | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_BROKER_URL",
            "Celery broker (`redis://…` or `amqp://…`). Unset: background jobs run in-process.",
            secret=True,
        ),
    )
    require_purpose: bool = field(
        default=False,
        metadata=_doc(
            "ARCHIVE_REQUIRE_PURPOSE",
            "Refuse to open content without a purpose (`X-Archive-Purpose`: the ticket or case).",
        ),
    )
    require_mfa: bool = field(
        default=False,
        metadata=_doc(
            "ARCHIVE_REQUIRE_MFA",
            "Privacy officers and administrators must log in with a TOTP second factor.",
        ),
    )
    expiry_interval_seconds: int = field(
        default=3600,
        metadata=_doc(
            "ARCHIVE_EXPIRY_INTERVAL_SECONDS",
            "How often the expiry sweep runs (Celery beat, or in-process on the embedded default).",
        ),
    )
    expiry_lease_seconds: int = field(
        default=900,
        metadata=_doc(
            "ARCHIVE_EXPIRY_LEASE_SECONDS",
            "Age at which a sweep finishes deletions another sweep claimed and did not finish.",
        ),
    )
    tombstone_days: int = field(
        default=1827,
        metadata=_doc(
            "ARCHIVE_TOMBSTONE_DAYS",
            "Days a deleted contact's tombstone row is kept. Past it, the sweep folds a run's "
            "tombstones into the run's record: their count and a SHA-256 digest of their ids.",
        ),
    )
    export_days: int = field(
        default=7,
        metadata=_doc(
            "ARCHIVE_EXPORT_DAYS",
            "Days an export bundle (a data subject's copy) is kept before it is destroyed.",
        ),
    )
    audit_seal_seconds: int = field(
        default=10,
        metadata=_doc(
            "ARCHIVE_AUDIT_SEAL_SECONDS",
            "How often the audit log's sequencer folds new records into its Merkle tree and "
            "signs a tree head (Celery beat, or in-process on the embedded default).",
        ),
    )
    audit_heads_file: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_AUDIT_HEADS_FILE",
            "Append-only file of the audit log's signed tree heads, kept outside the database "
            "when the store is local. Default: `<data_dir>/audit-heads.jsonl`. With S3 the "
            "heads go to the bucket under `audit-heads/`.",
        ),
    )
    audit_retention_days: int = field(
        default=1827,
        metadata=_doc(
            "ARCHIVE_AUDIT_RETENTION_DAYS",
            "Days audit records are kept: a daily job removes whole months past it (their "
            "signed heads stay). Also how long each signed tree head stays under S3 Object "
            "Lock (compliance mode) where the bucket has it.",
        ),
    )
    cookie_secure: bool = field(
        default=True,
        metadata=_doc(
            "ARCHIVE_COOKIE_SECURE",
            "Browsers send the session cookie over HTTPS only. Browsers treat `localhost` as "
            "secure; turn off only for plain HTTP on another host you trust.",
        ),
    )
    cors_origins: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "ARCHIVE_CORS_ORIGINS",
            "Comma-separated origins (`https://crm.example.com`) whose pages may call the API "
            "from a browser with a bearer token. Empty: CORS is off, no `Access-Control-*` "
            "headers at all.",
        ),
    )
    log_level: str = field(
        default="INFO",
        metadata=_doc("ARCHIVE_LOG_LEVEL", "Log level: DEBUG, INFO, WARNING, ERROR."),
    )
    log_json: bool = field(
        default=False,
        metadata=_doc("ARCHIVE_LOG_JSON", "Write logs as JSON lines instead of console text."),
    )
    metrics_token: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_METRICS_TOKEN",
            "Bearer token Prometheus sends to scrape `GET /metrics`. Empty: there is no "
            "`/metrics` (404).",
            secret=True,
        ),
    )
    metrics_port: int | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_METRICS_PORT",
            "Port on which a Celery worker, or `archive serve`, answers scrapes of its metrics "
            "without a token (keep it inside the private network). `archive serve` answers "
            "there what /metrics answers, on ARCHIVE_HOST's interface. Unset: none.",
        ),
    )

    public_url: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_PUBLIC_URL",
            "The address people's browsers open the archive at (`https://archive.example.com`), "
            "from which the single sign-on addresses registered at the provider are made. "
            "Needed with ARCHIVE_OIDC_ISSUER.",
        ),
    )
    oidc_issuer: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_OIDC_ISSUER",
            "The OpenID Connect provider people log in through, as its discovery document "
            "names it (`https://login.microsoftonline.com/<tenant>/v2.0`). Empty: no single "
            "sign-on.",
        ),
    )
    oidc_client_id: str = field(
        default="",
        metadata=_doc("ARCHIVE_OIDC_CLIENT_ID", "The archive's client id at the provider."),
    )
    oidc_client_secret: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_OIDC_CLIENT_SECRET",
            "The archive's client secret at the provider.",
            secret=True,
        ),
    )
    oidc_scopes: str = field(
        default="openid profile email",
        metadata=_doc(
            "ARCHIVE_OIDC_SCOPES",
            "The scopes asked for, space-separated; `openid` is always among them.",
        ),
    )
    oidc_groups_claim: str = field(
        default="groups",
        metadata=_doc(
            "ARCHIVE_OIDC_GROUPS_CLAIM",
            "The ID token claim that lists the person's groups, which the group mapping turns "
            "into roles.",
        ),
    )
    oidc_username_claim: str = field(
        default="preferred_username",
        metadata=_doc(
            "ARCHIVE_OIDC_USERNAME_CLAIM",
            "The claim an account's user name is made from at its first login (its part "
            "before any `@`); the account stays bound to the provider's subject, not to it.",
        ),
    )
    oidc_mfa_acr_values: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_OIDC_MFA_ACR_VALUES",
            "`acr` values, space-separated, that mean the provider checked a second factor "
            "(besides `amr` claims such as `mfa`, `otp` or `hwk`, which always count).",
        ),
    )
    oidc_session_minutes: int = field(
        default=60,
        metadata=_doc(
            "ARCHIVE_OIDC_SESSION_MINUTES",
            "How long a session begun through the provider lasts. Past it the person logs in "
            "through the provider again, so a person disabled there, or removed from a group, "
            "loses access within this time at most.",
        ),
    )
    local_login: bool = field(
        default=True,
        metadata=_doc(
            "ARCHIVE_LOCAL_LOGIN",
            "People may log in with the archive's own passwords. Off: single sign-on only "
            "(service accounts' tokens work as before).",
        ),
    )
    watch_dir: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_WATCH_DIR",
            "Folder a telephone system writes call recordings into (its subfolders too): each "
            "complete recording is archived, then moved or deleted. Unset: no folder is watched.",
        ),
    )
    watch_pattern: str = field(
        default="%Y%m%d-%H%M%S-<caller>-<callee>-<uniqueid>.wav",
        metadata=_doc(
            "ARCHIVE_WATCH_PATTERN",
            "What a recording's file name says: `%Y %m %d %H %M %S` (or `%s`, `%z`) its start, "
            "`<caller>`, `<callee>`, `<uniqueid>` (its identity), `<agent>`, `<ticket>`, "
            "`<direction>`, `<any>`; other characters stand for themselves.",
        ),
    )
    watch_timezone: str = field(
        default="Europe/Helsinki",
        metadata=_doc(
            "ARCHIVE_WATCH_TIMEZONE",
            "Time zone of the start times in file names (and in sidecars without an offset).",
        ),
    )
    watch_sidecar: str = field(
        default="none",
        metadata=_doc(
            "ARCHIVE_WATCH_SIDECAR",
            "`none`: a recording is complete once it has stopped growing. `json` or `csv`: once "
            "its sidecar `NAME.meta.json` or `NAME.meta.csv` is there, whose fields win over "
            "the name's.",
        ),
    )
    watch_settle_seconds: int = field(
        default=30,
        metadata=_doc(
            "ARCHIVE_WATCH_SETTLE_SECONDS",
            "Without sidecars, how long a recording must have been left unchanged before it "
            "counts as complete.",
        ),
    )
    watch_after: str = field(
        default="move",
        metadata=_doc(
            "ARCHIVE_WATCH_AFTER",
            "What becomes of an archived recording: `move` (to ARCHIVE_WATCH_DONE_DIR) or "
            "`delete`.",
        ),
    )
    watch_done_dir: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_WATCH_DONE_DIR",
            "Where archived recordings are moved. Default: `<watch_dir>/archived`.",
        ),
    )
    watch_refused_dir: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_WATCH_REFUSED_DIR",
            "Where recordings the archive will never take are moved, each with a note why. "
            "Default: `<watch_dir>/refused`.",
        ),
    )
    watch_interval_seconds: int = field(
        default=30,
        metadata=_doc(
            "ARCHIVE_WATCH_INTERVAL_SECONDS",
            "How often the worker (or the embedded schedule) looks at the folder and the bucket.",
        ),
    )
    watch_bucket: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_WATCH_BUCKET",
            "An S3 prefix recordings are exported to, `s3://bucket/prefix/`: read in key order "
            "from where the last pass stopped, never changed. Empty: no bucket is watched.",
        ),
    )
    watch_s3_endpoint: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_WATCH_S3_ENDPOINT",
            "Endpoint of ARCHIVE_WATCH_BUCKET, `https://host:port`. Default: the archive's own "
            "S3 endpoint.",
        ),
    )
    watch_s3_access_key: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_WATCH_S3_ACCESS_KEY",
            "Access key for ARCHIVE_WATCH_BUCKET (reading and listing suffice). Default: the "
            "archive's own.",
            secret=True,
        ),
    )
    watch_s3_secret_key: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_WATCH_S3_SECRET_KEY",
            "Its secret key. Default: the archive's own.",
            secret=True,
        ),
    )
    watch_bucket_window_seconds: int = field(
        default=21600,
        metadata=_doc(
            "ARCHIVE_WATCH_BUCKET_WINDOW_SECONDS",
            "How long the start-after marker of ARCHIVE_WATCH_BUCKET stays before a recording "
            "dealt with, so that one exported later under a smaller key is still found. Must "
            "exceed the longest time between a recording's start (the time in its name) and "
            "its export. 0: keys only grow.",
        ),
    )
    smtp_host: str = field(
        default="127.0.0.1",
        metadata=_doc("ARCHIVE_SMTP_HOST", "Address `archive smtp` binds."),
    )
    smtp_port: int = field(
        default=2525, metadata=_doc("ARCHIVE_SMTP_PORT", "Port `archive smtp` listens on.")
    )
    smtp_allow: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "ARCHIVE_SMTP_ALLOW",
            "Client addresses and networks (`10.0.0.5, 192.168.10.0/24`), comma-separated, "
            "that may hand mail to `archive smtp` without AUTH. Any other client logs in with "
            "an ingest account's name and API token.",
        ),
    )
    smtp_tls_cert: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_SMTP_TLS_CERT",
            "PEM file of the certificate (and its chain) `archive smtp` offers with STARTTLS. "
            "Set: AUTH is refused until the client has started TLS.",
        ),
    )
    smtp_tls_key: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_SMTP_TLS_KEY",
            "The PEM private key of ARCHIVE_SMTP_TLS_CERT.",
            secret=True,
        ),
    )
    imap_host: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_IMAP_HOST",
            "IMAP server whose mailboxes the `imap` job archives (docs/connectors.md). Empty: "
            "no mailbox is read.",
        ),
    )
    imap_port: int = field(
        default=993, metadata=_doc("ARCHIVE_IMAP_PORT", "Port of ARCHIVE_IMAP_HOST.")
    )
    imap_tls: str = field(
        default="implicit",
        metadata=_doc(
            "ARCHIVE_IMAP_TLS",
            "`implicit` (IMAPS, port 993) or `starttls` (port 143, TLS started before the "
            "login). The server's certificate is always checked.",
        ),
    )
    imap_ca_file: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_IMAP_CA_FILE",
            "PEM file of the certificate authorities the IMAP server's certificate is checked "
            "against. Unset: the system's.",
        ),
    )
    imap_user: str = field(
        default="", metadata=_doc("ARCHIVE_IMAP_USER", "The mailbox account's login name.")
    )
    imap_password: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_IMAP_PASSWORD",
            "The account's password (LOGIN). Leave empty to log in with "
            "ARCHIVE_IMAP_OAUTH2_TOKEN_FILE instead.",
            secret=True,
        ),
    )
    imap_oauth2_token_file: Path | None = field(
        default=None,
        metadata=_doc(
            "ARCHIVE_IMAP_OAUTH2_TOKEN_FILE",
            "File holding an OAuth 2.0 access token to log in with (XOAUTH2), read afresh at "
            "every connection so that a refresher outside the archive can replace it.",
        ),
    )
    imap_mailboxes: tuple[str, ...] = field(
        default=("INBOX",),
        metadata=_doc(
            "ARCHIVE_IMAP_MAILBOXES",
            "Mailboxes to archive, comma-separated, as the server names them.",
        ),
    )
    imap_after: str = field(
        default="keep",
        metadata=_doc(
            "ARCHIVE_IMAP_AFTER",
            "What becomes of an archived message on the server: `keep` (left as it is), "
            "`flag` (given the keyword `$Archived`) or `move` (moved to ARCHIVE_IMAP_MOVE_TO).",
        ),
    )
    imap_move_to: str = field(
        default="",
        metadata=_doc(
            "ARCHIVE_IMAP_MOVE_TO",
            "The mailbox archived messages are moved to with ARCHIVE_IMAP_AFTER=move; made if "
            "missing.",
        ),
    )
    imap_batch: int = field(
        default=200,
        metadata=_doc(
            "ARCHIVE_IMAP_BATCH",
            "Messages read in one batch, after which the mailbox's position is saved.",
        ),
    )
    imap_interval_seconds: int = field(
        default=60,
        metadata=_doc(
            "ARCHIVE_IMAP_INTERVAL_SECONDS",
            "How often the mailboxes are read (Celery beat, the embedded schedule, or "
            "`archive imap`).",
        ),
    )

    def _check_processes(self) -> None:
        if self.workers is not None and not 1 <= self.workers <= 64:
            raise ConfigurationError("ARCHIVE_WORKERS must be between 1 and 64")
        if not 1 <= self.database_pool_size <= 500:
            raise ConfigurationError("ARCHIVE_DATABASE_POOL_SIZE must be between 1 and 500")

    def __post_init__(self) -> None:
        if self.store not in ("local", "s3"):
            raise ConfigurationError(f"ARCHIVE_STORE must be 'local' or 's3', not {self.store!r}")
        if self.store == "s3" and not (
            self.s3_endpoint and self.s3_access_key and self.s3_secret_key
        ):
            raise ConfigurationError(
                "ARCHIVE_STORE=s3 needs ARCHIVE_S3_ENDPOINT, ARCHIVE_S3_ACCESS_KEY "
                "and ARCHIVE_S3_SECRET_KEY"
            )
        if not 1024 <= self.segment_size <= 64 * MIB:
            raise ConfigurationError("ARCHIVE_SEGMENT_SIZE must be between 1 KiB and 64 MiB")
        if self.expiry_interval_seconds < 1 or self.expiry_lease_seconds < 0:
            raise ConfigurationError(
                "ARCHIVE_EXPIRY_INTERVAL_SECONDS must be positive, ARCHIVE_EXPIRY_LEASE_SECONDS "
                "not negative"
            )
        self._check_processes()
        if self.tombstone_days < 30:
            # Younger than that, a tombstone may still be wanted by a run being read, a
            # deletion being checked or an erasure certificate being issued.
            raise ConfigurationError("ARCHIVE_TOMBSTONE_DAYS must be at least 30")
        if not 1 <= self.export_days <= 90:
            raise ConfigurationError("ARCHIVE_EXPORT_DAYS must be between 1 and 90")
        if self.max_upload_bytes <= 0 or self.max_message_bytes <= 0:
            raise ConfigurationError("upload limits must be positive")
        if not self.policy.strip():
            # The policy itself is loaded, and checked, when the runtime is built.
            raise ConfigurationError("ARCHIVE_POLICY must name a policy preset or a policy file")
        for origin in self.cors_origins:
            if not _ORIGIN.fullmatch(origin):
                raise ConfigurationError(
                    f"ARCHIVE_CORS_ORIGINS: {origin!r} is not an origin such as "
                    "'https://crm.example.com' (a scheme and a host, an optional port, no path "
                    "and no wildcard)"
                )
        _check_single_sign_on(self)
        _check_port(self.metrics_port, "ARCHIVE_METRICS_PORT")
        _check_port(self.smtp_port, "ARCHIVE_SMTP_PORT")
        _check_watch(self)
        _check_smtp(self)
        _check_imap(self)
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigurationError("ARCHIVE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'archive.db'}"

    @property
    def resolved_store_path(self) -> Path:
        return self.store_path or self.data_dir / "objects"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "keys.json"

    @property
    def resolved_audit_heads_file(self) -> Path:
        return self.audit_heads_file or self.data_dir / "audit-heads.jsonl"

    @property
    def resolved_workers(self) -> int:
        """The server processes to run: as set, else one per CPU (one on SQLite)."""
        if self.workers is not None:
            return self.workers
        if self.resolved_database_url.startswith("sqlite"):
            return 1
        return max(1, len(os.sched_getaffinity(0)))

    @property
    def is_embedded(self) -> bool:
        """True when running on the laptop default: SQLite and the local store."""
        return self.store == "local" and self.resolved_database_url.startswith("sqlite")

    def to_env(self) -> dict[str, str]:
        """The ARCHIVE_* variables that make `from_env` build these settings again: what a
        child process (a second worker, a command run by a test) is given."""
        values: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple):
                text = ",".join(str(item) for item in value)
            else:
                text = str(value)
            values[f.metadata["env"]] = text
        return values

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["env"]
            raw = _raw_value(name, env, secret=f.metadata.get("secret", False))
            if raw is not None:
                values[f.name] = _convert(f.name, name, raw, f.default)
        values.update(overrides)
        return cls(**values)


def _check_single_sign_on(settings: Settings) -> None:
    if not settings.oidc_issuer:
        if not settings.local_login:
            raise ConfigurationError(
                "ARCHIVE_LOCAL_LOGIN=false needs ARCHIVE_OIDC_ISSUER: nobody could log in"
            )
        return
    if not _HTTP_URL.fullmatch(settings.oidc_issuer) or len(settings.oidc_issuer) > 300:
        raise ConfigurationError(
            "ARCHIVE_OIDC_ISSUER must be an http(s) address, 300 characters at most"
        )
    if not (settings.oidc_client_id and settings.oidc_client_secret):
        raise ConfigurationError(
            "ARCHIVE_OIDC_ISSUER needs ARCHIVE_OIDC_CLIENT_ID and ARCHIVE_OIDC_CLIENT_SECRET"
        )
    if not _HTTP_URL.fullmatch(settings.public_url):
        raise ConfigurationError(
            "ARCHIVE_OIDC_ISSUER needs ARCHIVE_PUBLIC_URL, the http(s) address people open "
            "the archive at: the provider sends them back to it"
        )
    if not 5 <= settings.oidc_session_minutes <= 24 * 60:
        raise ConfigurationError("ARCHIVE_OIDC_SESSION_MINUTES must be between 5 and 1440")
    if not settings.oidc_groups_claim or not settings.oidc_username_claim:
        raise ConfigurationError(
            "ARCHIVE_OIDC_GROUPS_CLAIM and ARCHIVE_OIDC_USERNAME_CLAIM must name claims"
        )


def _check_watch(settings: Settings) -> None:
    if settings.watch_sidecar not in WATCH_SIDECARS:
        raise ConfigurationError("ARCHIVE_WATCH_SIDECAR must be none, json or csv")
    if settings.watch_after not in ("move", "delete"):
        raise ConfigurationError("ARCHIVE_WATCH_AFTER must be move or delete")
    if settings.watch_settle_seconds < 0 or settings.watch_interval_seconds < 1:
        raise ConfigurationError(
            "ARCHIVE_WATCH_SETTLE_SECONDS must not be negative, ARCHIVE_WATCH_INTERVAL_SECONDS "
            "must be positive"
        )
    if settings.watch_bucket_window_seconds < 0:
        raise ConfigurationError("ARCHIVE_WATCH_BUCKET_WINDOW_SECONDS must not be negative")
    if not settings.watch_pattern or "/" in settings.watch_pattern:
        raise ConfigurationError("ARCHIVE_WATCH_PATTERN must be a file name, without a /")
    if settings.watch_dir is not None or settings.watch_bucket:
        try:
            zoneinfo.ZoneInfo(settings.watch_timezone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise ConfigurationError(
                f"ARCHIVE_WATCH_TIMEZONE: {settings.watch_timezone!r} is not a time zone such "
                "as 'Europe/Helsinki'"
            ) from None
    if settings.watch_bucket and not _S3_PREFIX.fullmatch(settings.watch_bucket):
        raise ConfigurationError("ARCHIVE_WATCH_BUCKET must be s3://bucket/ or s3://bucket/prefix/")
    if settings.watch_s3_endpoint and not _HTTP_URL.fullmatch(settings.watch_s3_endpoint):
        raise ConfigurationError(
            "ARCHIVE_WATCH_S3_ENDPOINT must be http(s)://host:port, e.g. https://s3.example.com"
        )
    if settings.watch_bucket and not (
        (settings.watch_s3_endpoint or settings.s3_endpoint)
        and (settings.watch_s3_access_key or settings.s3_access_key)
        and (settings.watch_s3_secret_key or settings.s3_secret_key)
    ):
        raise ConfigurationError(
            "ARCHIVE_WATCH_BUCKET needs an endpoint and keys: ARCHIVE_WATCH_S3_ENDPOINT, "
            "ARCHIVE_WATCH_S3_ACCESS_KEY and ARCHIVE_WATCH_S3_SECRET_KEY, or the archive's own "
            "ARCHIVE_S3_*"
        )


def _check_smtp(settings: Settings) -> None:
    for entry in settings.smtp_allow:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigurationError(
                f"ARCHIVE_SMTP_ALLOW: {entry!r} is not an address or a network such as "
                "'192.168.10.0/24'"
            ) from None
    if bool(settings.smtp_tls_cert) != bool(settings.smtp_tls_key):
        raise ConfigurationError(
            "ARCHIVE_SMTP_TLS_CERT and ARCHIVE_SMTP_TLS_KEY are set together or not at all"
        )


IMAP_TLS = ("implicit", "starttls")
IMAP_AFTER = ("keep", "flag", "move")


def _check_imap(settings: Settings) -> None:
    _check_port(settings.imap_port, "ARCHIVE_IMAP_PORT")
    if settings.imap_tls not in IMAP_TLS:
        raise ConfigurationError("ARCHIVE_IMAP_TLS must be 'implicit' or 'starttls'")
    if settings.imap_after not in IMAP_AFTER:
        raise ConfigurationError("ARCHIVE_IMAP_AFTER must be 'keep', 'flag' or 'move'")
    if not 1 <= settings.imap_batch <= 10_000:
        raise ConfigurationError("ARCHIVE_IMAP_BATCH must be between 1 and 10000")
    if settings.imap_interval_seconds < 1:
        raise ConfigurationError("ARCHIVE_IMAP_INTERVAL_SECONDS must be positive")
    if not settings.imap_host:
        return
    if not settings.imap_user:
        raise ConfigurationError("ARCHIVE_IMAP_HOST needs ARCHIVE_IMAP_USER")
    if bool(settings.imap_password) == bool(settings.imap_oauth2_token_file):
        raise ConfigurationError(
            "ARCHIVE_IMAP_HOST needs ARCHIVE_IMAP_PASSWORD or ARCHIVE_IMAP_OAUTH2_TOKEN_FILE "
            "(one of them)"
        )
    if not settings.imap_mailboxes:
        raise ConfigurationError("ARCHIVE_IMAP_MAILBOXES must name a mailbox")
    if settings.imap_after == "move":
        if not settings.imap_move_to:
            raise ConfigurationError("ARCHIVE_IMAP_AFTER=move needs ARCHIVE_IMAP_MOVE_TO")
        if settings.imap_move_to in settings.imap_mailboxes:
            raise ConfigurationError(
                "ARCHIVE_IMAP_MOVE_TO must not be one of ARCHIVE_IMAP_MAILBOXES"
            )


def _check_port(port: int | None, env_name: str) -> None:
    if port is not None and not 1 <= port <= 65535:
        raise ConfigurationError(f"{env_name} must be a port, 1 to 65535")


# A key file with years of rotated keys is a few kilobytes; a secret file is never larger.
SECRET_FILE_BYTES = MIB


def _raw_value(name: str, env: Mapping[str, str], *, secret: bool) -> str | None:
    """The text of a setting: its variable, or for a secret the file `<name>_FILE` names."""
    direct = env.get(name, "")
    file_name = name + FILE_SUFFIX
    path = env.get(file_name, "")
    if not path:
        return direct or None
    if not secret:
        raise ConfigurationError(
            f"{file_name}: {name} is not a secret setting and is not read from a file; "
            f"set {name} itself"
        )
    if direct:
        raise ConfigurationError(f"set {name} or {file_name}, not both")
    # The messages name the variable and the path, never what the file holds.
    try:
        found = Path(path)
        info = found.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"{file_name}: cannot read {path}: not a regular file")
        if info.st_size > SECRET_FILE_BYTES:
            raise ConfigurationError(
                f"{file_name}: {path} is larger than {SECRET_FILE_BYTES} bytes; no secret is"
            )
        text = found.read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigurationError(f"{file_name}: cannot read {path}: {reason}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{file_name}: {path} is not UTF-8 text") from None
    # Files written by `echo` or an editor end with a newline that is no part of the secret.
    value = text.rstrip("\r\n")
    if not value:
        raise ConfigurationError(f"{file_name}: {path} is empty")
    return value


def file_variables() -> list[str]:
    """The `<VARIABLE>_FILE` names the secret settings may be read from, in field order."""
    return [
        f.metadata["env"] + FILE_SUFFIX for f in fields(Settings) if f.metadata.get("secret", False)
    ]


# Settings that are a number when set and have no default number.
_OPTIONAL_INTEGERS = ("workers", "metrics_port")


_PATHS = (
    "data_dir",
    "store_path",
    "key_file",
    "audit_heads_file",
    "smtp_tls_cert",
    "watch_dir",
    "watch_done_dir",
    "watch_refused_dir",
    "imap_ca_file",
    "imap_oauth2_token_file",
)


def _convert(attr: str, env_name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigurationError(f"{env_name} must be true or false, not {raw!r}")
    if isinstance(default, tuple):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if isinstance(default, int) or attr in _OPTIONAL_INTEGERS:
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ConfigurationError(f"{env_name} must be an integer, not {raw!r}") from None
    if attr in _PATHS:
        return Path(raw)
    return raw


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting: the README's table is checked against it."""
    rows = []
    for f in fields(Settings):
        if isinstance(f.default, tuple):
            default = ",".join(f.default)
        else:
            default = "" if f.default is None else str(f.default)
        rows.append((f.metadata["env"], default, f.metadata["doc"]))
    return rows
