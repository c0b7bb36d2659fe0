"""gunicorn settings for production (see Procfile). Several workers; one leads the engine."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60


def post_worker_init(worker):
    """Start leader election in each worker after the fork (never at import)."""
    from app.runtime import start_engine
    from app.wsgi import app

    start_engine(app.server.extensions["wedscale"])


def worker_exit(server, worker):
    """Release the leader lock on a graceful exit so another worker takes over at once."""
    from app.wsgi import app

    runner = app.server.extensions["wedscale"].state.get("runner")
    if runner is not None:
        runner.stop()
