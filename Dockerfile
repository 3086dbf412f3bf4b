# The archive's image: the API, the Celery workers, beat and the one-shot migrate all run it.
# The base is pinned to a Python release of the version the project is tested on (3.11), and
# every dependency to the version of requirements.lock, so a rebuild installs what was tested.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

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
