# Studio: one image, two processes (see docs/deploy.md).
#   docker run IMAGE            the web app: migrate, then gunicorn on $PORT
#   docker run IMAGE worker     the job worker (also purges the 30-day trash hourly)
#   docker run IMAGE migrate    migrations only, for upgrades with several web replicas
# All need the same configuration: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, and either the
# /data volume (MEDIA_ROOT) shared by all, or STUDIO_STORAGE=s3 with a bucket.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtualenv and the collected static files ------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/venv/bin:$PATH

RUN python -m venv /venv
WORKDIR /app

# The pinned dependencies alone first, so a code change reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install --requirement requirements.txt

COPY manage.py gunicorn.conf.py ./
COPY studio ./studio
COPY gallery ./gallery
COPY imageapi ./imageapi
COPY teams ./teams
COPY audit ./audit
COPY templates ./templates
COPY static ./static
COPY scripts/docker-entrypoint scripts/healthcheck ./scripts/

# Static files are collected (hashed and compressed for whitenoise) at build time; the key
# only lets the settings load and is not kept.
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && python -m compileall -q studio gallery imageapi teams audit

# --- runtime: slim, no build leftovers, not root ----------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:$PATH \
    DEBUG=false \
    DATABASE_URL=sqlite:////data/db.sqlite3 \
    MEDIA_ROOT=/data/media \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    GUNICORN_THREADS=8

RUN useradd --create-home --uid 1000 --user-group studio \
    && mkdir -p /data/media \
    && chown -R studio:studio /data

COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app

USER studio
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "scripts/healthcheck"]

ENTRYPOINT ["scripts/docker-entrypoint"]
CMD ["web"]
