# The archive's image: the API, the Celery worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml requirements.lock README.md alembic.ini ./
COPY archive ./archive
COPY workers ./workers
RUN pip install -c requirements.lock . \
    && useradd --system --uid 10001 archive
USER archive

EXPOSE 8000
ENV ARCHIVE_HOST=0.0.0.0 ARCHIVE_PORT=8000
CMD ["archive", "serve"]
