"""Serve third-party CSS and fonts from the app itself (no CDN on closed networks).

Bootstrap 5.3 and Bootstrap Icons come from the ``bootstrap-flask`` wheel's static folder,
installed by ``make install`` like any other dependency.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, Flask


def register_vendor(server: Flask) -> None:
    """Expose the vendored static files under ``/static/vendor/``."""
    static_root = str(files("flask_bootstrap") / "static")
    server.register_blueprint(Blueprint("vendor", __name__, static_folder=static_root,
                                        static_url_path="/static/vendor"))
