"""Estimator parameter access shared by the engine's detectors (scikit-learn manners).

Parameters are whatever ``__init__`` accepts; ``__init__`` stores them unchanged, so they
can be read back, copied and changed without touching learned state.
"""

from __future__ import annotations

import inspect
from typing import Any


class ParamsMixin:
    """``get_params`` / ``set_params`` read from the ``__init__`` signature (scikit-learn style)."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters as given."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> "ParamsMixin":
        """Set constructor parameters; call :meth:`fit` again for them to take effect."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"unknown parameter {name!r} for {type(self).__name__}")
            setattr(self, name, value)
        return self
