"""The production compose file: valid under the Compose Specification, every setting it passes a
real one, images pinned, secrets as files, two API replicas behind Caddy, every long-running
part with a healthcheck. `docker compose` itself does not run in the tests."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from archive.settings import Settings, file_variables, settings_table

pytestmark = pytest.mark.fast

ROOT = Path(__file__).parent.parent
SCHEMA = ROOT / "deploy" / "schema"
CADDYFILE = ROOT / "deploy" / "caddy" / "Caddyfile"
# The archive's services: its image, built from the Dockerfile.
ARCHIVE_SERVICES = {"api-1", "api-2", "worker", "beat", "migrate", "smtp"}
ONE_SHOTS = {"migrate", "bucket"}
# Secrets of the other images, which must not appear as plain variables either.
THEIR_SECRETS = {"POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
DEFAULTED = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so that it can be checked"
    return {str(name): str(value) for name, value in env.items()}


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMA / "compose-spec.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


def test_the_schema_is_vendored_with_its_licence_and_catches_mistakes() -> None:
    assert "Apache License" in (SCHEMA / "LICENSE").read_text(encoding="utf-8")
    readme = (SCHEMA / "README.md").read_text(encoding="utf-8")
    assert "compose-spec/compose-spec" in readme
    assert "schema/compose-spec.json" in readme
    document = compose()
    misspelt = copy.deepcopy(document)
    misspelt["services"]["worker"]["healthchek"] = misspelt["services"]["worker"].pop("healthcheck")
    assert any("healthchek" in error for error in schema_errors(misspelt))
    wrong_type = copy.deepcopy(document)
    wrong_type["services"]["worker"]["depends_on"] = "postgres"
    assert schema_errors(wrong_type)


def test_every_archive_setting_it_passes_exists_in_settings() -> None:
    names = {variable for variable, _, _ in settings_table()}
    files = set(file_variables())
    for name, service in services().items():
        for variable in environment(service):
            if variable.startswith("ARCHIVE_"):
                assert variable in names | files, f"{name}: {variable} is no setting"
        if name in ARCHIVE_SERVICES:
            others = {"FORWARDED_ALLOW_IPS", "PROMETHEUS_MULTIPROC_DIR"}
            assert not set(environment(service)) - names - files - others, name


def test_the_archive_services_settings_are_accepted_as_they_stand(tmp_path: Path) -> None:
    # What `Settings.from_env` makes of each service's environment, with stand-ins for the
    # secret files and interpolated variables at their defaults: no contradiction stops it.
    for name in ARCHIVE_SERVICES:
        env: dict[str, str] = {}
        for variable, value in environment(services()[name]).items():
            if variable.endswith("_FILE") and value.startswith("/run/secrets/"):
                stand_in = tmp_path / value.rsplit("/", 1)[1]
                stand_in.write_text(f"stand-in for {variable}\n", encoding="utf-8")
                env[variable] = str(stand_in)
            else:
                env[variable] = DEFAULTED.sub(lambda m: m.group(1), value)
        settings = Settings.from_env(env)
        assert settings.store == "s3", name
        assert settings.s3_object_lock, name
        assert all((settings.keys_json, settings.broker_url, settings.database_url)), name
        assert settings.log_json, name


def test_images_are_pinned_to_versions() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    for name, service in services().items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image}"
        assert tag not in ("", "latest"), f"{name}: {image} is not pinned"
        assert re.search(r"\d+\.\d+|RELEASE\.\d{4}-\d{2}-\d{2}T", tag), f"{name}: {image}"
        if name in ARCHIVE_SERVICES:
            assert service["build"] == ".", name
            assert tag == version, f"{name}: {image} is not the project's version"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (base,) = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
    assert "pip install -c requirements.lock ." in dockerfile
    (user,) = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert user.split(":")[0] not in ("root", "0"), user


def test_the_image_dumps_the_database_the_compose_file_runs() -> None:
    """`archive backup` runs pg_dump, which refuses a server of a newer major version than
    its own: the image's client is the compose file's PostgreSQL's major version."""
    (server,) = [s["image"] for s in services().values() if s["image"].startswith("postgres:")]
    major = server.removeprefix("postgres:").split(".")[0]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"^ARG PG_MAJOR={major}$", dockerfile, flags=re.M), server
    assert '"postgresql-client-${PG_MAJOR}"' in dockerfile
    # The packages are the PostgreSQL project's, checked against its signing key.
    assert "signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc" in dockerfile


def test_a_worker_pool_counts_into_a_directory_of_its_own() -> None:
    """Prefork workers answering on a port: their pool's counts must reach it, through a
    PROMETHEUS_MULTIPROC_DIR on a tmpfs (empty at every start)."""
    worker = services()["worker"]
    env = environment(worker)
    assert "ARCHIVE_METRICS_PORT" in env
    shared = env["PROMETHEUS_MULTIPROC_DIR"]
    assert any(mount.split(":")[0] == shared for mount in worker["tmpfs"]), worker["tmpfs"]


def test_secrets_are_files_never_plain_variables() -> None:
    document = compose()
    declared = document["secrets"]
    for name, secret in declared.items():
        assert secret == {"file": f"./secrets/{name}"}, name
    secret_settings = {variable.removesuffix("_FILE") for variable in file_variables()}
    used: set[str] = set()
    for name, service in services().items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), name
        used |= mounted
        for variable, value in environment(service).items():
            assert variable not in secret_settings | THEIR_SECRETS, f"{name}: {variable} in plain"
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", value), f"{name}: {variable} holds one"
            if variable.endswith("_FILE") and variable.startswith(("ARCHIVE_", "POSTGRES_")):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/"), (name, variable)
                assert secret in mounted, (name, variable)
            elif variable.endswith("_FILE"):  # MinIO reads names under /run/secrets/
                assert value in mounted, (name, variable)
    assert used == set(declared), "every secret declared is used, and only those"
    # Every secret setting comes from a file; the metrics token only where /metrics is served.
    for name in ARCHIVE_SERVICES:
        files = {v for v in environment(services()[name]) if v.endswith("_FILE")}
        wanted = set(file_variables())
        # Single sign-on is added by whoever sets it up, with its client secret (docs/sso.md):
        # a secret file may not be empty, so none stands ready for it.
        wanted.discard("ARCHIVE_OIDC_CLIENT_SECRET_FILE")
        # So is the SMTP endpoint's TLS key, with its certificate (docs/connectors.md).
        wanted.discard("ARCHIVE_SMTP_TLS_KEY_FILE")
        # And the IMAP account's password, with the mailboxes to read (docs/connectors.md).
        wanted.discard("ARCHIVE_IMAP_PASSWORD_FILE")
        # And a recording bucket's own keys, where it is not the archive's (the default).
        wanted.discard("ARCHIVE_WATCH_S3_ACCESS_KEY_FILE")
        wanted.discard("ARCHIVE_WATCH_S3_SECRET_KEY_FILE")
        if not name.startswith("api-"):
            wanted.discard("ARCHIVE_METRICS_TOKEN_FILE")
        assert files == wanted, name


def test_two_api_replicas_behind_caddy_with_tls_and_health_checks() -> None:
    found = services()
    apis = [
        name
        for name, service in found.items()
        if service.get("command", [])[:2] == ["archive", "serve"]
    ]
    assert sorted(apis) == ["api-1", "api-2"]
    published = [name for name, service in found.items() if service.get("ports")]
    assert published == ["caddy"], "only the proxy is reachable from outside"
    caddy = found["caddy"]
    assert "./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    address = caddy["networks"]["edge"]["ipv4_address"]
    for name in apis:
        env = environment(found[name])
        # The server trusts X-Forwarded-For from Caddy's address alone.
        assert env["FORWARDED_ALLOW_IPS"] == address, name
        assert env["ARCHIVE_HOST"] == "0.0.0.0"
        assert env["ARCHIVE_PORT"] == "8000"
        assert "edge" in found[name]["networks"]
    caddyfile = CADDYFILE.read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in caddyfile.splitlines()]
    assert "reverse_proxy api-1:8000 api-2:8000 {" in lines
    assert "tls internal" in lines
    assert "health_uri /health/ready" in lines
    assert "header_up X-Forwarded-For {remote_host}" in lines
    assert "request_header @no_request_id X-Request-ID {http.request.uuid}" in lines


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if name in ONE_SHOTS:
            assert service["restart"] == "no", name
            continue
        assert service["restart"] == "unless-stopped", name
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
        assert len(test) > 1, name
    found = services()
    assert found["worker"]["deploy"]["replicas"] == 2
    assert "replicas" not in found["beat"].get("deploy", {}), "exactly one beat"
    # A ping of the worker's own node through the broker (celery@<its host name>).
    assert found["worker"]["healthcheck"]["test"][1:4] == ["archive", "worker", "health"]
    # Not the schedule file's existence: the heartbeat beat's scheduler touches on every tick,
    # beside the schedule file beat is started with.
    beat = found["beat"]
    schedule = next(a for a in beat["command"] if a.startswith("--schedule=")).split("=", 1)[1]
    assert beat["healthcheck"]["test"] == [
        "CMD",
        "archive",
        "worker",
        "beat-health",
        "--schedule",
        schedule,
    ]
    api_check = " ".join(found["api-1"]["healthcheck"]["test"])
    assert "/health/live" in api_check


def test_migrations_run_once_before_any_part_of_the_archive_starts() -> None:
    found = services()
    assert found["migrate"]["command"] == ["archive", "db", "upgrade"]
    assert "migrate" not in found["migrate"]["depends_on"]
    for name in ARCHIVE_SERVICES - {"migrate"}:
        depends = found[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["bucket"] == {"condition": "service_completed_successfully"}, name
        for backend in ("postgres", "minio", "redis"):
            assert depends[backend] == {"condition": "service_healthy"}, (name, backend)


def test_the_bucket_is_made_with_object_lock_and_redis_asks_for_a_password() -> None:
    found = services()
    bucket_name = environment(found["api-1"])["ARCHIVE_S3_BUCKET"]
    script = found["bucket"]["command"][0]
    assert f"mc mb --ignore-existing --with-lock store/{bucket_name}" in script
    assert environment(found["api-1"])["ARCHIVE_S3_OBJECT_LOCK"] == "true"
    redis = " ".join(found["redis"]["command"])
    assert "requirepass" in redis
    assert "/run/secrets/redis_password" in redis
    assert "/run/secrets/redis_password" in found["redis"]["healthcheck"]["test"][1]


def test_data_lives_in_named_volumes() -> None:
    document = compose()
    named = set(document["volumes"])
    assert named == {
        "postgres-data",
        "minio-data",
        "redis-data",
        "caddy-data",
        "caddy-config",
        "prometheus-data",
    }
    for name in ("postgres", "minio", "redis", "caddy", "prometheus"):
        volumes = document["services"][name]["volumes"]
        assert any(v.split(":")[0] in named for v in volumes)


def test_prometheus_scrapes_every_replica_and_worker_and_loads_the_alerts() -> None:
    found = services()
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text("utf-8"))
    mounted = {v.split(":")[1]: v.split(":")[0] for v in found["prometheus"]["volumes"]}
    assert mounted["/etc/prometheus/alerts.yml"] == "./deploy/prometheus/alerts.yml"
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["archive-api"]
    port = environment(found["api-1"])["ARCHIVE_PORT"]
    assert api["static_configs"][0]["targets"] == [f"api-1:{port}", f"api-2:{port}"]
    # The replicas' token and the one Prometheus sends are the same secret.
    token = environment(found["api-1"])["ARCHIVE_METRICS_TOKEN_FILE"]
    assert api["authorization"]["credentials_file"] == token
    assert token.removeprefix("/run/secrets/") in found["prometheus"]["secrets"]
    workers = jobs["archive-worker"]["dns_sd_configs"][0]
    assert workers["names"] == ["worker"]
    assert str(workers["port"]) == environment(found["worker"])["ARCHIVE_METRICS_PORT"]
    assert "ports" not in found["prometheus"], "reached from the backend network only"


def test_readiness_and_metrics_are_not_served_to_the_outside() -> None:
    caddyfile = CADDYFILE.read_text(encoding="utf-8")
    assert "@internal path /health/ready /metrics" in caddyfile
    assert "respond @internal 404" in caddyfile
    # Caddy's own health checks and Prometheus ask the replicas directly, not through the site.
    assert "health_uri /health/ready" in caddyfile
