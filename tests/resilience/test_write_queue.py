"""The write-behind queue on its own: order, capacity, and which failures it queues."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.clock import ManualClock
from engine.storage.write_behind import WriteBehind
from tests.conftest import T0


class FakeDatabase:
    """Sessions are plain lists; while ``down`` every session fails as unreachable."""

    def __init__(self):
        self.down = False
        self.committed: list = []

    @contextmanager
    def session(self):
        if self.down:
            raise OperationalError("connect", {}, ConnectionRefusedError("down"))
        pending: list = []
        yield pending
        self.committed.extend(pending)


def test_writes_pass_through_while_the_database_is_up():
    db = FakeDatabase()
    writes = WriteBehind(db, ManualClock(T0), capacity=3)
    assert writes.write("a", lambda s: s.append("a") or "done") == "done"
    assert db.committed == ["a"] and writes.status().pending == 0


def test_queued_in_order_and_flushed_in_order_before_new_writes():
    db, clock = FakeDatabase(), ManualClock(T0)
    writes = WriteBehind(db, clock, capacity=10)
    db.down = True
    for name in "abc":
        assert writes.write(name, lambda s, n=name: s.append(n)) is None
        clock.advance(seconds=5)
    assert writes.status().pending == 3 and writes.status().unreachable_since == T0
    db.down = False
    writes.write("d", lambda s: s.append("d"))       # the queue goes first
    assert db.committed == ["a", "b", "c", "d"]
    assert writes.status().unreachable_since is None


def test_deferred_acts_at_once_and_queues_its_own_unit():
    db = FakeDatabase()
    writes = WriteBehind(db, ManualClock(T0))
    acted = []
    db.down = True
    writes.write("order", lambda s: s.append("ordered-later"),
                 deferred=lambda: acted.append("ordered-now") or (lambda s: s.append("recorded")))
    assert acted == ["ordered-now"]
    db.down = False
    assert writes.flush() == 1 and db.committed == ["recorded"]


def test_a_full_queue_loses_and_counts_further_writes():
    db = FakeDatabase()
    writes = WriteBehind(db, ManualClock(T0), capacity=2)
    db.down = True
    for name in "abcd":
        writes.write(name, lambda s, n=name: s.append(n))
    status = writes.status()
    assert status.full and status.lost == 2
    db.down = False
    writes.flush()
    assert db.committed == ["a", "b"]


def test_other_database_errors_are_not_swallowed():
    db = FakeDatabase()
    writes = WriteBehind(db, ManualClock(T0))

    def broken(_session):
        raise IntegrityError("insert", {}, Exception("duplicate"))

    with pytest.raises(IntegrityError):
        writes.write("bad", broken)
    assert writes.status().pending == 0
