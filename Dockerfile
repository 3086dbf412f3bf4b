# The archive's image: the API, the Celery workers, beat and the one-shot migrate all run it.
# The base is pinned to a Python release of the version the project is tested on (3.11), and
# every dependency to the version of requirements.lock, so a rebuild installs what was tested.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# `archive backup` runs pg_dump, which must be of the server's major version or newer: the
# PostgreSQL project's own packages for it (docker-compose.yml's postgres image is 16).
ARG PG_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc]" \
        "https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
    && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml requirements.lock README.md alembic.ini ./
COPY archive ./archive
COPY workers ./workers
RUN pip install -c requirements.lock . \
    && groupadd --system --gid 10001 archive \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin archive

# Never root. A numeric user, so that an orchestrator can tell it is not root without running
# the image; secrets under /run/secrets must be readable by it (docs/operations.md#secrets).
USER 10001:10001

EXPOSE 8000
ENV ARCHIVE_HOST=0.0.0.0 ARCHIVE_PORT=8000
CMD ["archive", "serve"]
