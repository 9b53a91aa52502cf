"""gunicorn settings for `make serve` and the HTTP benchmarks: `gunicorn -c <this file>`.

Everything can be overridden on the command line (`--bind`, `--workers`) or with GUNICORN_CMD_ARGS.
"""

import os

wsgi_app = "wizard.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# The access log must not carry result tokens or revoke secrets, which live in URLs.
logger_class = "wizard.logs.RedactingGunicornLogger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
