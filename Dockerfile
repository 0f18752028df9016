# Studio: the web app (default command) or the task worker (`python manage.py worker`, which
# also purges the 30-day trash hourly).
# Both need the same DATABASE_URL, MEDIA_ROOT volume and configuration; see README.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=false \
    DATABASE_URL=sqlite:////data/db.sqlite3 \
    MEDIA_ROOT=/data/media \
    PORT=8000

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN mkdir -p studio gallery imageapi teams audit \
    && touch studio/__init__.py gallery/__init__.py imageapi/__init__.py teams/__init__.py audit/__init__.py \
    && pip install . \
    && pip uninstall -y studio \
    && rm -rf studio gallery imageapi teams audit build *.egg-info

COPY manage.py ./
COPY studio ./studio
COPY gallery ./gallery
COPY imageapi ./imageapi
COPY teams ./teams
COPY audit ./audit
COPY templates ./templates
COPY static ./static

# Static files are collected at build time; the key here only lets settings load.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 studio \
    && mkdir -p /data/media \
    && chown -R studio:studio /data

USER studio
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)"

# SECRET_KEY and ALLOWED_HOSTS must be given at run time (start-up stops and names them otherwise).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn studio.wsgi:application --bind 0.0.0.0:${PORT} --worker-class gthread --workers 2 --threads 8 --timeout 120 --access-logfile -"]
