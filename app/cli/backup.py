"""``wedscale backup create|list|verify [ID]|restore ID --yes``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app.cli.common import CLI_ACTOR, cli_engine
from engine.backup.verification import seconds_text
from engine.errors import WedscaleError


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(getattr(exc, "message", None) or str(exc))


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _state(row) -> str:
    if row.verify_ok is None:
        return "unverified"
    return "verified" if row.verify_ok else "FAILED"


@click.group("backup")
def backup_group() -> None:
    """Backups of the app database (files in WEDSCALE_BACKUP_DIR)."""


@backup_group.command("create")
def backup_create() -> None:
    """Take a manual backup now (checksummed, listed in the manifest, audited)."""
    from engine.backup.backend import BackupFailed

    engine = cli_engine()
    try:
        row = engine.backups.create("manual", CLI_ACTOR)
    except (BackupFailed, WedscaleError) as exc:
        raise _fail(exc) from exc
    click.echo(f"backup {row.id} written: {row.path} ({_size(row.size_bytes)}, sha256 {row.sha256[:16]}…, "
               f"{seconds_text(row.dump_s)})")


@backup_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every backup and the RPO/RTO.")
def backup_list(as_json: bool) -> None:
    """List backups, newest first, with size, verification, and the current RPO/RTO."""
    engine = cli_engine()
    rows = engine.backups.list()
    status = engine.backups.status()
    if as_json:
        click.echo(json.dumps({
            "backups": [{"id": r.id, "created_at": r.created_at.isoformat(), "kind": r.kind,
                         "path": r.path, "size_bytes": r.size_bytes, "sha256": r.sha256,
                         "verify_ok": r.verify_ok, "verify_detail": r.verify_detail,
                         "verified_at": r.verified_at.isoformat() if r.verified_at else None,
                         "dump_s": r.dump_s, "restore_s": r.restore_s} for r in rows],
            "rpo_s": status.rpo_s, "rto_s": status.rto_s}))
        return
    for r in rows:
        restore = f"restore {seconds_text(r.restore_s)}" if r.restore_s is not None else ""
        click.echo(f"{r.id}\t{r.created_at:%Y-%m-%d %H:%M:%S}Z\t{r.kind}\t{_size(r.size_bytes)}\t"
                   f"{_state(r)}\t{restore}\t{Path(r.path).name}")
    rpo = f"{status.rpo_s / 60:.0f} min" if status.rpo_s is not None else "none (no verified backup)"
    rto = seconds_text(status.rto_s) if status.rto_s is not None else "not measured"
    click.echo(f"{len(rows)} backup(s), {_size(status.total_bytes)}; RPO {rpo}; RTO {rto}")


@backup_group.command("verify")
@click.argument("backup_id", type=int, required=False)
def backup_verify(backup_id: int | None) -> None:
    """Verify one backup (or every backup): checksum, restore into a scratch database,
    compare row counts and the audit head, verify the restored audit chain."""
    engine = cli_engine()
    try:
        results = ([engine.backups.verify(backup_id, CLI_ACTOR)] if backup_id is not None
                   else engine.backups.verify_all(CLI_ACTOR))
    except WedscaleError as exc:
        raise _fail(exc) from exc
    for result in results:
        click.echo(f"backup {result.backup_id}: {'ok' if result.ok else 'FAILED'}: {result.detail}")
    failed = [r for r in results if not r.ok]
    if failed:
        click.echo(f"{len(failed)} of {len(results)} backup(s) failed verification; first: backup "
                   f"{failed[0].backup_id}: {failed[0].detail}", err=True)
        sys.exit(1)
    if not results:
        click.echo("no backups to verify")


@backup_group.command("restore")
@click.argument("backup_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm: the whole database is replaced by the backup.")
def backup_restore(backup_id: int, yes: bool) -> None:
    """Replace the database with backup ID (a pre-restore backup is taken first; audited)."""
    from engine.backup.backend import BackupFailed
    from engine.storage.schema import is_current

    if not yes:
        raise click.ClickException(f"restoring replaces the whole database with backup {backup_id}; "
                                   "add --yes to confirm (a pre-restore backup is taken first)")
    engine = cli_engine()
    try:
        result = engine.restore_backup(backup_id, CLI_ACTOR)
    except (BackupFailed, WedscaleError) as exc:
        raise _fail(exc) from exc
    click.echo(f"restored backup {backup_id} in {seconds_text(result.restore_s)}; pre-restore backup "
               f"{result.pre_restore_id}; audit row {result.audit_row_id} records it")
    if not is_current(engine.db):
        click.echo("the restored schema is older than this version: run `wedscale db upgrade`")
