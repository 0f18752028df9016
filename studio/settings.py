"""Settings, all from the environment (see README "Configuration")."""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from imageapi.catalogue import active_models, offer_problem
from imageapi.params import DEFAULT_MODEL

from .env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_path,
    env_proxy_header,
    env_str,
    env_timezone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "studio",
    "gallery",
    "teams",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "studio.urls"
# Form fields drawn by {{ field.as_field_group }} through templates/forms/field.html.
FORM_RENDERER = "studio.rendering.FormRenderer"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "studio.context_processors.provider",
            ],
        },
    },
]

_default_db = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL") or _default_db, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is invalid: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and worker threads write concurrently: WAL and immediate transactions keep
    # SQLite from failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory: the worker's threads need real concurrent connections in tests too.
    # Named per process, so two test runs on one machine never share (and clobber) a database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
# Django's backends, with a bound on the connections a worker's job threads hold at once
# (studio/db_backends/gate.py: STUDIO_WORKER_DB_CONNECTIONS).
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.sqlite3": "studio.db_backends.sqlite3",
    "django.db.backends.postgresql": "studio.db_backends.postgresql",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Images are private: MEDIA_ROOT is never served by URL, only through permission-checked views.
MEDIA_ROOT = env_path("MEDIA_ROOT", BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Edits upload up to 16 images of < 50 MB; keep big ones on disk, not in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 20

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- The Images API -----------------------------------------------------------------------
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_url("OPENAI_BASE_URL", "https://api.openai.com/v1")
STUDIO_MODEL = env_str("STUDIO_MODEL", DEFAULT_MODEL) or DEFAULT_MODEL
# The models this deployment offers in the studio's picker (the default first; every active
# catalogue model unless set); each must be active in the catalogue.
STUDIO_MODELS = list(dict.fromkeys([STUDIO_MODEL, *env_list(
    "STUDIO_MODELS", [entry.id for entry in active_models() if STUDIO_MODEL not in entry.ids])]))
for _name, _models in (("STUDIO_MODEL", [STUDIO_MODEL]), ("STUDIO_MODELS", STUDIO_MODELS)):
    for _model in _models:
        if (_problem := offer_problem(_model)) is not None:
            raise ImproperlyConfigured(f"{_name}={os.environ.get(_name, _model)!r} is invalid: {_problem}.")
STUDIO_PROVIDER = env_choice("STUDIO_PROVIDER", "openai" if OPENAI_API_KEY else "offline",
                             ("openai", "offline"))
if STUDIO_PROVIDER == "openai" and not OPENAI_API_KEY:
    raise ImproperlyConfigured("STUDIO_PROVIDER=openai needs OPENAI_API_KEY to be set.")
STUDIO_REQUEST_TIMEOUT = env_float("STUDIO_REQUEST_TIMEOUT", 600.0, minimum=1.0)
STUDIO_CONNECT_TIMEOUT = env_float("STUDIO_CONNECT_TIMEOUT", 5.0, minimum=0.1)
STUDIO_MAX_RETRIES = env_int("STUDIO_MAX_RETRIES", 2, maximum=10)
# Connections to the Images API one process may hold: at least the calls it keeps in flight.
STUDIO_HTTP_MAX_CONNECTIONS = env_int("STUDIO_HTTP_MAX_CONNECTIONS", 1000, minimum=1, maximum=100_000)
STUDIO_HTTP_MAX_KEEPALIVE = env_int("STUDIO_HTTP_MAX_KEEPALIVE", 100, minimum=0, maximum=100_000)
# How slow the offline emulator pretends to be (1.0 ≈ real pacing, 0 = instant).
STUDIO_EMULATOR_LATENCY = env_float("STUDIO_EMULATOR_LATENCY", 1.0)
# Jobs mostly wait on the Images API: concurrency is images per minute x seconds per call / 60
# (README). Their database work shares STUDIO_WORKER_DB_CONNECTIONS connections per worker.
STUDIO_WORKER_CONCURRENCY = env_int("STUDIO_WORKER_CONCURRENCY", 200, minimum=1, maximum=5000)
# Jobs one person may have running at once (all workers); more wait their turn in the queue.
STUDIO_MAX_JOBS_PER_USER = env_int("STUDIO_MAX_JOBS_PER_USER", 50, minimum=1, maximum=100_000)
STUDIO_WORKER_DB_CONNECTIONS = env_int("STUDIO_WORKER_DB_CONNECTIONS", 8, minimum=1, maximum=200)
# Images a minute the upstream key may start, all workers together (studio.pacing); 0: no pacing.
STUDIO_IMAGES_PER_MINUTE = env_int("STUDIO_IMAGES_PER_MINUTE", 0, minimum=0, maximum=1_000_000)
# Jobs: how many times a worker may take a job whose worker stopped, how long a lease lasts
# without renewal, and how long SIGTERM lets calls in flight finish.
STUDIO_JOB_MAX_ATTEMPTS = env_int("STUDIO_JOB_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
STUDIO_JOB_LEASE_SECONDS = env_float("STUDIO_JOB_LEASE_SECONDS", 30.0, minimum=1.0)
STUDIO_SHUTDOWN_GRACE = env_float("STUDIO_SHUTDOWN_GRACE", 30.0)
# Budgets run by calendar month in this time zone.
STUDIO_BUDGET_TIMEZONE = env_timezone("STUDIO_BUDGET_TIMEZONE", "UTC")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # httpx logs every request line at INFO; the worker logs its own summary instead.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# --- File storage (issue 13): local disk by default, or private objects in an S3 bucket -------
# Kept in one block: images, thumbnails, inputs, masks and previews all go through STORAGES
# "default", so this is the only switch. Objects are private (no ACL is sent, so the bucket's
# own private default applies); a browser gets a file only after the permission check, by a
# redirect to a signed URL that lives STUDIO_S3_URL_SECONDS, or streamed through the view.
STUDIO_STORAGE = env_choice("STUDIO_STORAGE", "local", ("local", "s3"))
STUDIO_S3_REDIRECT = env_bool("STUDIO_S3_REDIRECT", True)
STUDIO_S3_URL_SECONDS = env_int("STUDIO_S3_URL_SECONDS", 300, minimum=10, maximum=7 * 24 * 3600)
if STUDIO_STORAGE == "s3":
    AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STUDIO_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME to be set.")
    # Blank means unset, so compose files may pass an empty value through.
    AWS_S3_ENDPOINT_URL = env_url("AWS_S3_ENDPOINT_URL", "") if env_str("AWS_S3_ENDPOINT_URL") else None
    # Where browsers reach the bucket, when that differs from the address the app uses.
    STUDIO_S3_PUBLIC_URL = (env_url("STUDIO_S3_PUBLIC_URL", "") if env_str("STUDIO_S3_PUBLIC_URL")
                            else AWS_S3_ENDPOINT_URL)
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None
    STORAGES["default"] = {
        "BACKEND": "gallery.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "public_endpoint_url": STUDIO_S3_PUBLIC_URL,
            "region_name": AWS_S3_REGION_NAME,
            # Without keys, boto3's own chain applies (instance role, ~/.aws, ...).
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": STUDIO_S3_URL_SECONDS,
            "signature_version": "s3v4",
            # MinIO and most S3-compatible servers want bucket-in-path addresses.
            "addressing_style": "path" if AWS_S3_ENDPOINT_URL else None,
            # Never overwrite: a name is reused only by a new, unique file (as on disk).
            "file_overwrite": False,
            # Reads spool to a temporary file past this size, not to memory.
            "max_memory_size": FILE_UPLOAD_MAX_MEMORY_SIZE,
        },
    }
    if STUDIO_S3_REDIRECT:
        # Pages show images the view redirects to the bucket: the browser must be allowed to load them.
        if STUDIO_S3_PUBLIC_URL:
            _parts = urlsplit(STUDIO_S3_PUBLIC_URL)
            _bucket_origins = [f"{_parts.scheme}://{_parts.netloc}"]
        else:
            _region = AWS_S3_REGION_NAME or "us-east-1"
            _bucket_origins = [f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com",
                               f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{_region}.amazonaws.com"]
        CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] = [
            *CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"], *_bucket_origins]

# --- Deploy (issue 13): rotating SECRET_KEY without signing everyone out (docs/deploy.md) ---
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

# --- Hardening (issue 13): HTTPS, error pages, throttling, compression, logs -----------------
# Kept in one block so the storage settings (same issue) merge beside it without conflict.
# HTTPS: Django's own names. In production the defaults are what `check --deploy` asks for;
# set SECURE_SSL_REDIRECT=false and SECURE_HSTS_SECONDS=0 to try it over plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The container's health check asks over plain HTTP from inside; it must not be redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Only behind a proxy that sets (and strips from clients) this header, e.g. X-Forwarded-Proto,https.
SECURE_PROXY_SSL_HEADER = env_proxy_header("SECURE_PROXY_SSL_HEADER")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page shows a secret, whatever DEBUG says (see studio/security.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "studio.security.SecretSafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "studio.security.SecretSafeExceptionReporter"
# Last, so the page it may render has the session, user, messages, htmx and CSP nonce.
MIDDLEWARE.append("studio.middleware.UploadLimitMiddleware")
MIDDLEWARE.insert(0, "studio.security.ErrorPageScrubMiddleware")
# Outermost, so it compresses what the scrubber above has already checked (see TextGZipMiddleware).
MIDDLEWARE.insert(0, "studio.security.TextGZipMiddleware")
# Login throttling (django-axes): a kept library instead of our own counters; failures are
# counted per account and, separately, per client address, in the database (shared by all web
# processes). STUDIO_TRUSTED_PROXIES: how many proxies in front append to X-Forwarded-For.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("STUDIO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STUDIO_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful log-ins are not kept; failures are
AXES_LOCKOUT_CALLABLE = "studio.security.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "studio.security.client_ip"
STUDIO_TRUSTED_PROXIES = env_int("STUDIO_TRUSTED_PROXIES", 0, maximum=10)
# Per-user submit rate (jobs per window, 0 = no limit), apart from any budget.
STUDIO_SUBMIT_RATE_LIMIT = env_int("STUDIO_SUBMIT_RATE_LIMIT", 20)
STUDIO_SUBMIT_RATE_WINDOW = env_int("STUDIO_SUBMIT_RATE_WINDOW", 60, minimum=1, maximum=86_400)
# Logs: JSON lines in production (request id, user id, job id; secrets masked, no bytes),
# plain lines in development. STUDIO_LOG_LEVEL=DEBUG also logs prompts.
STUDIO_LOG_FORMAT = env_choice("STUDIO_LOG_FORMAT", "plain" if DEBUG else "json", ("json", "plain"))
STUDIO_LOG_LEVEL = env_choice("STUDIO_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "studio.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "studio.logs.SecretSafeJsonFormatter", "datefmt": "%Y-%m-%dT%H:%M:%S%z",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(job_id)s"},
        "plain": {"()": "studio.logs.SecretSafeFormatter",
                  "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": STUDIO_LOG_FORMAT,
                             "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": STUDIO_LOG_LEVEL},
    # httpx logs every request line at INFO; the worker logs its own summary instead. Axes logs
    # each log-in's bookkeeping at INFO; its lock-outs are warnings.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "studio.logs.RequestLogContextMiddleware")
# Uploads: anything over 2.5 MB goes to a temporary file as it arrives; the form inspects and
# the services store files a chunk at a time (see `make bench`: 16 inputs of 48 MB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
