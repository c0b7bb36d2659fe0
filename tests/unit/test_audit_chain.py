"""The pure hash chain: any edit, delete, reorder or truncation is found, naming the row."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from engine.security.audit_chain import (
    GENESIS_HASH,
    AuditRecord,
    chain_hash,
    derive_audit_key,
    verify_chain,
)

KEY = derive_audit_key("secret-a")
T = datetime(2026, 6, 13, 12, 0, tzinfo=timezone.utc)


def build(n: int, key: bytes = KEY):
    rows, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        record = AuditRecord(i, T + timedelta(seconds=i), f"user{i}", "scalability_operator",
                             "scale.manual", "api", "busy", "ok", "127.0.0.1", "{}")
        digest = chain_hash(key, prev, record)
        rows.append((record, prev, digest))
        prev = digest
    return rows, (n, prev)


def test_intact_chain_verifies():
    rows, checkpoint = build(5)
    report = verify_chain(KEY, rows, checkpoint)
    assert report.ok and report.rows == 5


def test_empty_chain_with_genesis_checkpoint_verifies():
    assert verify_chain(KEY, [], (0, GENESIS_HASH)).ok


def test_edited_row_is_named():
    rows, checkpoint = build(5)
    record, prev, digest = rows[2]
    rows[2] = (replace(record, reason="nothing to see"), prev, digest)
    report = verify_chain(KEY, rows, checkpoint)
    assert not report.ok and report.bad_id == 3


def test_rehashed_edit_breaks_the_next_row():
    # An attacker who edits a row and recomputes its hash without the key cannot match it.
    rows, checkpoint = build(5)
    record, prev, _ = rows[1]
    forged = replace(record, actor="mallory")
    rows[1] = (forged, prev, chain_hash(derive_audit_key("guess"), prev, forged))
    assert verify_chain(KEY, rows, checkpoint).bad_id == 2


def test_deleted_middle_row_is_found():
    rows, checkpoint = build(5)
    del rows[2]
    report = verify_chain(KEY, rows, checkpoint)
    assert not report.ok and report.bad_id == 4


def test_reordered_rows_are_found():
    rows, checkpoint = build(5)
    rows[1], rows[2] = rows[2], rows[1]
    assert not verify_chain(KEY, rows, checkpoint).ok


def test_deleting_the_newest_rows_is_caught_by_the_checkpoint():
    rows, checkpoint = build(5)
    report = verify_chain(KEY, rows[:3], checkpoint)
    assert not report.ok and "checkpoint" in report.problem


def test_another_key_does_not_verify():
    rows, checkpoint = build(3)
    assert not verify_chain(derive_audit_key("secret-b"), rows, checkpoint).ok
