"""The operator CLI against real SQL.

Most cases run the click command in-process (``CliRunner`` with the environment set) so
they stay fast; the ones about start-up run the installed ``wedscale`` script in a real
process.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli

WEDSCALE = str(Path(sys.executable).with_name("wedscale"))


@pytest.fixture
def env(tmp_path):
    environ = dict(os.environ)
    environ.update({"WEDSCALE_VAR_DIR": str(tmp_path / "var"),
                    "WEDSCALE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                    "WEDSCALE_SECRET_KEY": "cli-test-secret-key-0123456789abcdef"})
    environ.pop("WEDSCALE_DEMO", None)
    run(environ, "db", "upgrade")
    return environ


def run(env, *args, stdin: str = "", check: bool = True, real: bool = False):
    """Run ``wedscale ARGS``; returns an object with ``returncode``, ``stdout``, ``stderr``."""
    if real:
        result = subprocess.run([WEDSCALE, *args], input=stdin, capture_output=True, text=True,
                                env=env, timeout=120)
    else:
        outcome = CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)
        result = subprocess.CompletedProcess(args, outcome.exit_code, outcome.stdout, outcome.stderr)
    if check and result.returncode != 0:
        raise AssertionError(f"wedscale {' '.join(args)} failed: {result.stderr}")
    return result


def test_users_create_list_set_role_disable(env):
    run(env, "users", "create", "olga", "--role", "scalability_operator", stdin="s3cret-pw\ns3cret-pw\n")
    listed = run(env, "users", "list").stdout
    assert "olga\tscalability_operator\tactive" in listed
    run(env, "users", "set-role", "olga", "scalability_admin")
    run(env, "users", "disable", "olga")
    assert "olga\tscalability_admin\tdisabled" in run(env, "users", "list").stdout


def test_users_create_errors_are_one_line_and_non_zero(env):
    mismatch = run(env, "users", "create", "olga", "--role", "scalability_viewer",
                   stdin="one-pw\nother-pw\n", check=False)
    assert mismatch.returncode != 0 and "do not match" in mismatch.stderr
    run(env, "users", "create", "olga", "--role", "scalability_viewer", stdin="s3cret-pw\n")
    duplicate = run(env, "users", "create", "olga", "--role", "scalability_viewer",
                    stdin="s3cret-pw\n", check=False)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    bad_role = run(env, "users", "create", "x", "--role", "root", stdin="pw-12345\n", check=False)
    assert bad_role.returncode != 0
    missing = run(env, "users", "set-role", "ghost", "scalability_viewer", check=False)
    assert missing.returncode != 0 and "no user named 'ghost'" in missing.stderr


def test_tokens_create_list_revoke(env):
    run(env, "users", "create", "bot", "--role", "scalability_operator", stdin="s3cret-pw\n")
    created = run(env, "tokens", "create", "--user", "bot", "--scope", "metrics:push",
                  "--expires-days", "30").stdout
    token = created.split()[-1]
    assert token.startswith("wst_")
    listed = run(env, "tokens", "list", "--user", "bot").stdout
    assert "metrics:push" in listed and token not in listed
    token_id = listed.split("\t")[0]
    run(env, "tokens", "revoke", token_id)
    assert "revoked" in run(env, "tokens", "list").stdout
    bad_scope = run(env, "tokens", "create", "--user", "bot", "--scope", "everything", check=False)
    assert bad_scope.returncode != 0 and "unknown permission" in bad_scope.stderr


def test_audit_verify_export_and_tamper(env, tmp_path):
    run(env, "users", "create", "olga", "--role", "scalability_viewer", stdin="s3cret-pw\n")
    run(env, "users", "create", "ivan", "--role", "scalability_viewer", stdin="s3cret-pw\n")
    run(env, "users", "set-role", "ivan", "wedding_coordinator")
    assert "intact: 3 row(s)" in run(env, "audit", "verify").stdout
    csv_text = run(env, "audit", "export", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("id,ts,actor,role,action")
    assert len(csv_text.strip().splitlines()) == 4
    jsonl = run(env, "audit", "export", "--format", "jsonl").stdout
    assert len(jsonl.strip().splitlines()) == 3 and '"action": "user.set_role"' in jsonl
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        conn.execute("UPDATE audit_log SET target='mallory' WHERE id=2")
    broken = run(env, "audit", "verify", check=False)
    assert broken.returncode == 1 and "row 2" in broken.stderr


def test_audit_verify_fails_with_another_secret(env):
    run(env, "users", "create", "olga", "--role", "scalability_viewer", stdin="s3cret-pw\n")
    other = dict(env, WEDSCALE_SECRET_KEY="a-different-secret-key-0123456789")
    assert run(other, "audit", "verify", check=False).returncode == 1


def test_serve_refuses_the_default_secret_outside_demo(env):
    insecure = {k: v for k, v in env.items() if k != "WEDSCALE_SECRET_KEY"}
    result = run(insecure, "serve", "--port", "18999", check=False, real=True)
    assert result.returncode != 0 and "WEDSCALE_SECRET_KEY" in result.stderr


def test_commands_refuse_an_unmigrated_database(tmp_path):
    environ = dict(os.environ, WEDSCALE_DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}",
                   WEDSCALE_VAR_DIR=str(tmp_path / "var"), WEDSCALE_SECRET_KEY="x" * 40)
    result = run(environ, "users", "list", check=False, real=True)
    assert result.returncode != 0 and "wedscale db upgrade" in result.stderr


def test_demo_seed_creates_weddings_and_users_once(env):
    out = run(env, "demo", "seed", "--users").stdout
    assert "4 user(s)" in out and "0 wedding(s)" not in out
    again = run(env, "demo", "seed", "--users").stdout
    assert "seeded 0 wedding(s) and 0 user(s)" in again
    assert "admin\tscalability_admin" in run(env, "users", "list").stdout
