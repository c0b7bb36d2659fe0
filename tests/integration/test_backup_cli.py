"""``wedscale backup ...`` and ``wedscale check --deploy`` against real SQL (and Redis)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import port_open
from tests.integration.test_cli import env, run  # noqa: F401  (the CLI's env fixture)


def newest_backup(env) -> dict:
    return json.loads(run(env, "backup", "list", "--json").stdout)["backups"][0]


def test_backup_create_list_verify_restore(env):
    run(env, "users", "create", "olga", "--role", "scalability_viewer", stdin="s3cret-pw\n")
    created = run(env, "backup", "create").stdout
    assert created.startswith("backup 1 written: ") and ".sqlite.gz" in created
    backup = newest_backup(env)
    assert Path(backup["path"]).parent == Path(env["WEDSCALE_DATABASE_URL"][len("sqlite:///"):]).parent / "backups"
    assert "ok: restored in" in run(env, "backup", "verify", "1").stdout
    listed = run(env, "backup", "list").stdout
    assert "1\t" in listed and "manual" in listed and "verified" in listed and "RPO 0 min" in listed

    run(env, "users", "create", "late", "--role", "scalability_viewer", stdin="s3cret-pw\n")
    refused = run(env, "backup", "restore", "1", check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "late" in run(env, "users", "list").stdout          # nothing happened

    restored = run(env, "backup", "restore", "1", "--yes").stdout
    assert "restored backup 1" in restored and "pre-restore backup 2" in restored
    users = run(env, "users", "list").stdout
    assert "olga" in users and "late" not in users
    assert run(env, "audit", "verify").returncode == 0
    assert '"action": "backup.restored"' in run(env, "audit", "export", "--format", "jsonl").stdout
    kinds = [b["kind"] for b in json.loads(run(env, "backup", "list", "--json").stdout)["backups"]]
    assert kinds == ["pre-restore", "manual"]
    assert run(env, "backup", "verify").returncode == 0        # every backup


def test_backup_verify_reports_a_corrupted_file(env):
    run(env, "backup", "create")
    path = Path(newest_backup(env)["path"])
    path.write_bytes(path.read_bytes()[:-100])
    result = run(env, "backup", "verify", "1", check=False)
    assert result.returncode == 1 and "checksum mismatch" in result.stderr
    assert newest_backup(env)["verify_ok"] is False
    restore = run(env, "backup", "restore", "1", "--yes", check=False)
    assert restore.returncode != 0 and "refusing to restore backup 1" in restore.stderr


def test_backup_unknown_id_is_one_line(env):
    for args in (("verify", "99"), ("restore", "99", "--yes")):
        result = run(env, "backup", *args, check=False)
        assert result.returncode != 0 and result.stderr.strip() == "Error: no backup with id 99"


def test_backup_dir_from_the_environment(env, tmp_path):
    elsewhere = dict(env, WEDSCALE_BACKUP_DIR=str(tmp_path / "offsite"))
    run(elsewhere, "backup", "create")
    assert len(list((tmp_path / "offsite").glob("*.sqlite.gz"))) == 1


def test_check_deploy_fails_on_sqlite_with_several_workers(env):
    result = run(dict(env, WEB_CONCURRENCY="3"), "check", "--deploy", check=False)
    assert result.returncode != 0 and "check(s) failed" in result.stderr
    assert "FAIL  database: SQLite with 3 workers" in result.stdout
    assert "FAIL  redis" in result.stdout and "fix: set WEDSCALE_REDIS_URL" in result.stdout


def test_check_deploy_fails_on_a_weak_key_and_plain_cookies(env):
    weak = dict(env, WEB_CONCURRENCY="1", WEDSCALE_SECRET_KEY="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                WEDSCALE_SESSION_COOKIE_SECURE="0")
    result = run(weak, "check", "--deploy", check=False)
    assert result.returncode != 0
    assert "FAIL  secret key: the key looks weak" in result.stdout
    assert "FAIL  cookies" in result.stdout


def test_check_deploy_refuses_without_the_flag(env):
    result = run(env, "check", check=False)
    assert result.returncode != 0 and "--deploy" in result.stderr


def test_check_deploy_passes_a_production_configuration(env, pg_url):
    if not port_open("127.0.0.1", 6379):
        pytest.skip("no Redis server listens on 127.0.0.1:6379")
    production = dict(env, WEDSCALE_DATABASE_URL=pg_url, WEDSCALE_REDIS_URL="redis://127.0.0.1:6379/0",
                      WEB_CONCURRENCY="3", WEDSCALE_METRICS_TOKEN="scrape-token",
                      WEDSCALE_SECRET_KEY=os.urandom(32).hex())
    production.pop("WEDSCALE_SESSION_COOKIE_SECURE", None)
    unmigrated = run(production, "check", "--deploy", check=False)
    assert unmigrated.returncode != 0 and "FAIL  migrations" in unmigrated.stdout
    run(production, "db", "upgrade")
    result = run(production, "check", "--deploy", check=False)
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout and "WARN" not in result.stdout
    assert result.stdout.strip().endswith("ready for production")
