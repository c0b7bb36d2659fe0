"""Fixtures of the resilience tests: an engine wired to a fake actuator (see tests.fakes)."""

from __future__ import annotations

import pytest

from engine.bootstrap import build_engine
from tests.conftest import make_settings
from tests.fakes import FakeActuator

NO_LIMITS = {"monitoring": "100000/minute", "actions": "100000/minute", "push": "100000/minute",
             "health": "100000/minute"}
START = {"api": 6, "database": 3, "file-storage": 4, "real-time": 4, "ai-services": 2}


@pytest.fixture
def fake():
    """The actuator, holding the sizes of ``START``."""
    return FakeActuator(dict(START))


@pytest.fixture
def wired(settings, clock, fake):
    """An engine whose orders go to ``fake`` and whose alerts go nowhere."""
    built = build_engine(settings, clock=clock, actuator=fake, notifiers=[])
    yield built
    built.db.dispose()


@pytest.fixture
def unlimited_engine(tmp_path, db_url, clock):
    """An engine on the simulated cluster whose rate limits never trip."""
    built = build_engine(make_settings(tmp_path, db_url, rate_limits=NO_LIMITS), clock=clock)
    built.size_simulated_cluster()
    yield built
    built.db.dispose()
