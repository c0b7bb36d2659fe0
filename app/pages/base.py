"""What every page module provides: its path, title, permission and layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from engine.security.permissions import Permission


@dataclass(frozen=True)
class PageSpec:
    """A console page: where it lives, who may open it, and how to draw it.

    ``layout`` is called on every page load with the Engine, so pages show current state.
    """

    path: str
    title: str
    permission: Permission
    layout: Callable[..., object]
    icon: str = ""
