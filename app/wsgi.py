"""WSGI entry for gunicorn: ``gunicorn -c gunicorn.conf.py app.wsgi:server``.

Importing this module builds the app only; the engine starts in ``post_worker_init``
(gunicorn.conf.py), after the fork, so threads, locks and connections belong to the worker.
"""

from app import create_app
from app.cli.serve import refuse_insecure
from engine.config_model import ConfigError
from engine.settings import load_settings

try:
    _settings = load_settings()
except ConfigError as exc:  # one line instead of a traceback in the gunicorn log
    raise SystemExit(f"bad configuration: {exc}") from None
refuse_insecure(_settings)
app = create_app(_settings)
server = app.server
