"""Shared look of the console's dash-ag-grid tables (dark, like the Bootstrap dark theme)."""

from __future__ import annotations

DARK_GRID = ("themeQuartz.withParams({backgroundColor: '#212529', foregroundColor: '#dee2e6', "
             "headerBackgroundColor: '#2b3035', accentColor: '#0d6efd', browserColorScheme: 'dark'})")


def grid_options(**extra) -> dict:
    """Return ``dashGridOptions`` with single-row click selection, the dark theme and ``extra``."""
    return {"rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "theme": {"function": DARK_GRID}, "tooltipShowDelay": 300, **extra}
