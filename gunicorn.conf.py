"""gunicorn settings for production (see Procfile). Several workers; one leads the engine.

The app is imported once in the master (``preload_app``) and the workers fork from it: they
boot in a moment instead of each importing Dash, Plotly and NumPy again, which matters when
a killed worker is replaced during a wedding. Nothing in the import opens a connection or
starts a thread; each worker drops any pooled connection it inherited and starts leader
election after the fork.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60
preload_app = True


def post_worker_init(worker):
    """Start leader election in each worker after the fork (never at import)."""
    from app.runtime import start_engine
    from app.wsgi import app

    engine = app.server.extensions["wedscale"]
    # Connections made before the fork belong to the master: never share their sockets.
    engine.db.engine.dispose(close=False)
    start_engine(engine)


def worker_exit(server, worker):
    """Release the leader lock on a graceful exit so another worker takes over at once."""
    from app.wsgi import app

    runner = app.server.extensions["wedscale"].state.get("runner")
    if runner is not None:
        runner.stop()
