"""gunicorn settings for the container's web command, from the environment.

A bad value stops start-up naming the variable, as the app's own settings do.
"""

from studio.env import env_int, env_list

bind = f"0.0.0.0:{env_int('PORT', 8000, minimum=1, maximum=65535)}"
worker_class = "gthread"
# Processes × threads = requests served at once. Each process holds its own database connection
# per thread (CONN_MAX_AGE), so size the database's max_connections for web replicas × both.
workers = env_int("WEB_CONCURRENCY", 2, minimum=1, maximum=64)
threads = env_int("GUNICORN_THREADS", 8, minimum=1, maximum=256)
# Long enough for a 16 × 48 MB edit upload on a slow line; jobs themselves run in the worker.
timeout = env_int("GUNICORN_TIMEOUT", 120, minimum=10)
graceful_timeout = 30
# A process is replaced now and then, so slow leaks cannot build up.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# Addresses of the proxy in front, trusted for X-Forwarded-* (Django's own trust is SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = ",".join(env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1"]))
