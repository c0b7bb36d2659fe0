"""Security headers on every response: a Content-Security-Policy Dash can live with, and friends.

Dash's inline start-up scripts are allowed by their hashes (``Dash.csp_hashes``);
``'unsafe-eval'`` is needed by Plotly's and Dash's bundles; inline styles by Plotly's charts.
Everything else comes from this server: no CDN, no third-party origin.
"""

from __future__ import annotations

from dash import Dash


def install_security_headers(app: Dash) -> None:
    """Add CSP, X-Frame-Options, Referrer-Policy and friends to every response of ``app``."""
    script_hashes = " ".join(app.csp_hashes())  # already quoted: 'sha256-...'
    policy = "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'unsafe-eval' {script_hashes}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])

    @app.server.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
