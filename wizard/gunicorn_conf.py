"""gunicorn settings for `make serve` and the HTTP benchmarks: `gunicorn -c <this file>`.

Everything can be overridden on the command line (`--bind`, `--workers`) or with GUNICORN_CMD_ARGS.
"""

import os

wsgi_app = "wizard.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads in each worker: a request stuck on a database that hangs holds one thread, not the
# worker, so /healthz and requests that need no database keep answering meanwhile. (gunicorn
# turns a sync worker with more than one thread into gthread; GUNICORN_THREADS=1 for sync.)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Above the database's connect and statement timeouts (settings.DB_CONNECT_TIMEOUT and
# DB_STATEMENT_TIMEOUT, 3 + 10 s by default), so a hanging database ends in the app's 503 page
# rather than gunicorn killing the worker (and answering nothing, or its own 500).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
_database_wait = int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT") or 3) + int(
    os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT") or 10
)
if timeout <= _database_wait:
    raise ValueError(
        f"GUNICORN_TIMEOUT ({timeout} s) must exceed DJANGO_DB_CONNECT_TIMEOUT + "
        f"DJANGO_DB_STATEMENT_TIMEOUT ({_database_wait} s)"
    )
# The access log must not carry result tokens or revoke secrets, which live in URLs.
logger_class = "wizard.logs.RedactingGunicornLogger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
