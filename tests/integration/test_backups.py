"""Backups against real databases: backup → wipe → restore on SQLite and PostgreSQL, corrupted
files caught by verify, the scheduled run, retention on disk, the health component."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from engine.backup.backend import BackupFailed
from engine.backup.snapshot import read_snapshot
from engine.errors import Conflict, NotFound
from engine.health import check_health
from engine.security.permissions import Role
from engine.storage.models import AuditEntry, Base, BackupRow, JobRun
from engine.storage.schema import upgrade
from engine.wedding_book import WeddingInput
from tests.conftest import TEST_ACTOR, create_user, make_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def backup_engine(request, tmp_path, clock):
    """An engine on a migrated SQLite file or on its own PostgreSQL database."""
    from engine.bootstrap import build_engine

    if request.param == "sqlite":
        url = request.getfixturevalue("db_url")
    else:
        url = request.getfixturevalue("pg_url")
        upgrade(url)
    built = build_engine(make_settings(tmp_path, url), clock=clock)
    yield built
    built.db.dispose()


def populate(engine) -> None:
    """Users (audited), a token and job runs: rows in several tables and a real audit chain."""
    for role in Role:
        create_user(engine, role.label, role)
    with engine.db.session() as session:
        user = engine.accounts.get(session, "operator")
        engine.tokens.create(session, user, ["metrics:push"], 30, TEST_ACTOR)
        now = engine.clock.now()
        session.add_all(JobRun(job="collect_metrics", started_at=now, finished_at=now, ok=True,
                               worker="test") for _ in range(7))


def wipe(engine) -> None:
    """Lose every row of every table (the schema stays), as after a bad DELETE."""
    with engine.db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def row_counts(engine) -> dict[str, int]:
    with engine.db.engine.connect() as conn:
        return read_snapshot(conn).row_counts


def chain_ok(engine) -> bool:
    with engine.db.session() as session:
        return engine.audit.verify(session).ok


def test_backup_wipe_restore_gives_the_same_rows_and_a_verifying_chain(backup_engine):
    engine = backup_engine
    populate(engine)
    before = row_counts(engine)
    backup = engine.backups.create("manual", TEST_ACTOR)
    assert Path(backup.path).exists() and backup.size_bytes > 0 and len(backup.sha256) == 64
    assert json.loads(backup.row_counts) == before
    assert engine.backups.verify(backup.id).ok

    wipe(engine)
    assert row_counts(engine)["users"] == 0
    result = engine.backups.restore(backup.id, TEST_ACTOR)

    after = row_counts(engine)
    for table, count in before.items():
        if table == "audit_log":
            assert after[table] == count + 1, "exactly the 'backup restored' row is appended"
        elif table != "backups":
            assert after[table] == count, table
    assert chain_ok(engine)
    with engine.db.session() as session:
        last = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert (last.action, last.target, last.actor) == ("backup.restored", f"backup {backup.id}", "pytest")
        # The manifest survived the wipe and the restore: it lists the files on disk.
        kinds = {r.id: r.kind for r in session.execute(select(BackupRow)).scalars()}
    assert kinds[backup.id] == "manual" and kinds[result.pre_restore_id] == "pre-restore"
    # The sequence (PostgreSQL) and the manifest are consistent: the next backup gets a new id.
    newer = engine.backups.create("manual", TEST_ACTOR)
    assert newer.id not in kinds
    assert engine.backups.verify(newer.id).ok


def test_restore_takes_a_pre_restore_backup_that_holds_the_replaced_data(backup_engine):
    engine = backup_engine
    populate(engine)
    backup = engine.backups.create("manual", TEST_ACTOR)
    create_user(engine, "late-user", Role.SCALABILITY_VIEWER)
    result = engine.backups.restore(backup.id, TEST_ACTOR)
    with engine.db.session() as session:
        assert engine.accounts.find(session, "late-user") is None
    pre = engine.backups.get(result.pre_restore_id)
    assert json.loads(pre.row_counts)["users"] == json.loads(backup.row_counts)["users"] + 1
    assert engine.backups.verify(pre.id).ok


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_corrupted_backup_is_caught_by_verify_and_never_restored(backup_engine, damage):
    engine = backup_engine
    populate(engine)
    backup = engine.backups.create("manual", TEST_ACTOR)
    path = Path(backup.path)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        middle = len(data) // 2
        data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))

    result = engine.backups.verify(backup.id)
    assert not result.ok and "checksum mismatch" in result.detail
    stored = engine.backups.get(backup.id)
    assert stored.verify_ok is False and "checksum mismatch" in stored.verify_detail
    with pytest.raises(Conflict, match="checksum mismatch"):
        engine.backups.restore(backup.id, TEST_ACTOR)
    assert chain_ok(engine)


def test_verify_restores_for_real_a_damaged_file_with_a_matching_checksum_fails(engine):
    """The checksum is not the only check: a file re-checksummed after damage fails to restore."""
    from engine.backup.files import sha256_of

    populate(engine)
    backup = engine.backups.create("manual", TEST_ACTOR)
    path = Path(backup.path)
    path.write_bytes(path.read_bytes()[:-40])
    with engine.db.session() as session:
        session.get(BackupRow, backup.id).sha256 = sha256_of(path)
    result = engine.backups.verify(backup.id)
    assert not result.ok and "cannot restore" in result.detail


def test_verify_compares_row_counts_with_the_manifest(engine):
    populate(engine)
    backup = engine.backups.create("manual", TEST_ACTOR)
    counts = json.loads(backup.row_counts)
    counts["users"] += 1
    with engine.db.session() as session:
        session.get(BackupRow, backup.id).row_counts = json.dumps(counts)
    result = engine.backups.verify(backup.id)
    assert not result.ok and result.detail.startswith("row counts differ: users")


def test_verify_checks_the_restored_audit_chain(engine, tmp_path, clock):
    """A backup taken under another secret key does not verify under this one."""
    from engine.bootstrap import build_engine

    populate(engine)
    backup = engine.backups.create("manual", TEST_ACTOR)
    other = build_engine(engine.settings.with_(secret_key="another-secret-key-0123456789abcdef"), clock=clock)
    result = other.backups.verify(backup.id)
    other.db.dispose()
    assert not result.ok and "audit chain broken" in result.detail


def test_restore_of_an_unknown_backup_is_not_found(engine):
    with pytest.raises(NotFound):
        engine.backups.restore(999, TEST_ACTOR)


def test_scheduled_run_takes_hourly_and_pre_wedding_backups(engine, clock):
    assert engine.run_backups() is not None            # never backed up: due at once
    newest = engine.backups.list()[0]
    assert newest.kind == "scheduled" and newest.verify_ok is True
    clock.advance(minutes=10)
    assert engine.run_backups() is None                # the hourly one is fresh
    with engine.db.session() as session:               # window 15:00-ish: starts within the hour
        engine.weddings.create(session, WeddingInput("Ada & Bo", "2026-06-13", "UTC", "16:50", "18:00",
                                                     "23:00", 120), TEST_ACTOR, clock.now())
    engine.calendar.invalidate()
    assert engine.run_backups() is not None
    assert engine.backups.list()[0].kind == "pre-wedding"
    clock.advance(minutes=10)
    assert engine.run_backups() is None                # that wedding is covered
    clock.advance(hours=1)
    assert engine.run_backups() is not None
    assert engine.backups.list()[0].kind == "scheduled"


def test_prune_deletes_expired_files_and_their_rows(engine, clock):
    first = engine.backups.create("scheduled")
    clock.advance(minutes=10)
    second = engine.backups.create("scheduled")       # same hour: `first` loses its slot
    for backup in (first, second):
        assert engine.backups.verify(backup.id).ok
    clock.advance(minutes=1)
    assert engine.backups.prune() == [first.id]
    assert not Path(first.path).exists() and not Path(first.path + ".json").exists()
    assert Path(second.path).exists()
    assert [b.id for b in engine.backups.list()] == [second.id]


def test_backups_health_component(engine, clock):
    def component():
        report = check_health(engine)
        return next(c for c in report.components if c.name == "backups")

    assert component().status == "healthy"             # none yet, none due
    backup = engine.backups.create("scheduled")
    engine.backups.verify(backup.id)
    fresh = component()
    assert fresh.status == "healthy" and fresh.data["rpo_s"] == 0.0 and fresh.data["rto_s"] > 0
    clock.advance(hours=3)
    overdue = component()
    assert overdue.status == "degraded" and "overdue" in overdue.detail
    later = engine.backups.create("scheduled")
    Path(later.path).write_bytes(b"not a backup")
    engine.backups.verify(later.id)
    failed = component()
    assert failed.status == "degraded" and "failed verification" in failed.detail


def test_a_failed_dump_is_audited_and_leaves_no_file(engine, tmp_path):
    class BrokenBackend:
        suffix = ".broken"

        def dump(self, dest):
            dest.write_bytes(b"half")
            raise BackupFailed("disk full")

    engine.backups._backend = BrokenBackend()
    with pytest.raises(BackupFailed, match="disk full"):
        engine.backups.create("manual", TEST_ACTOR)
    assert list(engine.backups.backup_dir.glob("*.broken*")) == []
    with engine.db.session() as session:
        row = session.execute(select(AuditEntry).where(AuditEntry.action == "backup.create")).scalar_one()
    assert row.outcome == "failed" and row.reason == "disk full"


def test_backup_dir_defaults(tmp_path):
    from engine.backup.files import resolve_backup_dir

    sqlite = make_settings(tmp_path, f"sqlite:///{tmp_path}/data/app.db")
    assert resolve_backup_dir(sqlite) == tmp_path / "data" / "backups"
    pg = make_settings(tmp_path / "var", "postgresql://x@h/db")
    assert resolve_backup_dir(pg) == tmp_path / "var" / "backups"
    assert resolve_backup_dir(pg.with_(backup_dir=tmp_path / "elsewhere")) == tmp_path / "elsewhere"


def test_postgres_restore_leaves_no_table_the_backup_did_not_have(pg_url, tmp_path, clock):
    """A table added after the backup (a later migration) must not survive next to the
    restored alembic_version, or the next `db upgrade` would fail."""
    from sqlalchemy import inspect, text

    from engine.bootstrap import build_engine

    upgrade(pg_url)
    engine = build_engine(make_settings(tmp_path, pg_url), clock=clock)
    try:
        populate(engine)
        backup = engine.backups.create("manual", TEST_ACTOR)
        with engine.db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE later_feature (id integer PRIMARY KEY, "
                              "user_id integer REFERENCES users (id))"))
        engine.backups.restore(backup.id, TEST_ACTOR)
        with engine.db.engine.connect() as conn:
            assert "later_feature" not in inspect(conn).get_table_names()
        assert row_counts(engine)["users"] == json.loads(backup.row_counts)["users"]
        assert chain_ok(engine)
    finally:
        engine.db.dispose()
