"""``check --deploy`` rules as a table: settings and facts in, the finding for each rule out."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.deploy_check import (
    FAIL,
    OK,
    WARN,
    DeployFacts,
    check_deployment,
    has_failures,
    secret_entropy_bits,
)
from engine.settings import Settings

STRONG = "Jx3k9Qp_vR7mZ2wLt8Nb5Yc-Hd4Fg6Ks1Ua0Ee"  # 39 chars, varied
PG = "postgresql://wedscale@db/wedscale"
GOOD_SETTINGS = Settings(database_url=PG, secret_key=STRONG, redis_url="redis://r:6379/0",
                         metrics_token="t", session_cookie_secure=True, var_dir=Path("var"))
GOOD_FACTS = DeployFacts(workers=3, secret_from_env=True, demo_secret=None, schema_current=True,
                         database_error="", redis_reachable=True, backup_dir="var/backups",
                         backup_dir_writable=True)


def finding(topic: str, settings=None, facts=None, **changes):
    settings = (settings or GOOD_SETTINGS).with_(**{k: v for k, v in changes.items() if hasattr(GOOD_SETTINGS, k)})
    fact_changes = {k: v for k, v in changes.items() if not hasattr(GOOD_SETTINGS, k)}
    facts = DeployFacts(**{**GOOD_FACTS.__dict__, **fact_changes})
    return next(f for f in check_deployment(settings, facts) if f.topic == topic)


# (topic, changes from a good production setup, expected level, words in the message)
CASES = [
    ("secret key", {}, OK, "characters"),
    ("secret key", {"secret_from_env": False}, FAIL, "not set"),
    ("secret key", {"secret_key": "change-me"}, FAIL, "not set"),
    ("secret key", {"demo_secret": STRONG}, FAIL, "demo key"),
    ("secret key", {"secret_key": "short-key-123"}, FAIL, "13 characters"),
    ("secret key", {"secret_key": "ab" * 30}, FAIL, "weak"),
    ("demo mode", {"demo": True}, FAIL, "demo mode is on"),
    ("database", {}, OK, "PostgreSQL"),
    ("database", {"database_url": "sqlite:///var/w.db"}, FAIL, "SQLite with 3 workers"),
    ("database", {"database_url": "sqlite:///var/w.db", "workers": 1, "redis_url": None}, WARN, "one process"),
    ("migrations", {"schema_current": False}, FAIL, "not at the newest"),
    ("migrations", {"schema_current": None, "database_error": "OperationalError"}, FAIL, "unreachable"),
    ("redis", {"redis_url": None}, FAIL, "no Redis with 3 workers"),
    ("redis", {"redis_url": None, "workers": 1}, OK, "one worker"),
    ("redis", {"redis_reachable": False}, FAIL, "does not answer"),
    ("cookies", {"session_cookie_secure": False}, FAIL, "plain HTTP"),
    ("backups", {"backup_dir_writable": False}, FAIL, "cannot write"),
    ("backups", {"missing_tools": ("pg_dump",)}, FAIL, "pg_dump not found"),
    ("backups", {"missing_tools": ("pg_dump",), "database_url": "sqlite:///w.db", "workers": 1}, OK, "writable"),
    ("backups", {"can_create_database": False}, WARN, "cannot create databases"),
    ("metrics", {"metrics_token": None}, WARN, "public"),
]


@pytest.mark.parametrize("topic, changes, level, words", CASES,
                         ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in CASES])
def test_rule(topic, changes, level, words):
    result = finding(topic, **changes)
    assert result.level == level and words in result.message
    if level != OK:
        assert result.fix, "every WARN/FAIL says how to fix it"


def test_a_good_production_setup_has_no_failures_or_warnings():
    findings = check_deployment(GOOD_SETTINGS, GOOD_FACTS)
    assert [f.level for f in findings] == [OK] * len(findings)
    assert not has_failures(findings)


def test_entropy_estimate_orders_keys():
    assert secret_entropy_bits("") == 0
    assert secret_entropy_bits("a" * 64) == 0
    assert secret_entropy_bits("ab" * 32) == 64
    assert secret_entropy_bits(STRONG) > 128


@pytest.mark.parametrize("demo, value, expected", [(False, None, True), (True, None, False),
                                                   (False, "0", False), (True, "1", True)])
def test_secure_cookies_default_on_outside_demo(tmp_path, demo, value, expected):
    from engine.settings import load_settings

    env = {"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_SECRET_KEY": STRONG}
    if value is not None:
        env["WEDSCALE_SESSION_COOKIE_SECURE"] = value
    assert load_settings(demo=demo, env=env).session_cookie_secure is expected
