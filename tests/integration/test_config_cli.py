"""A bad WEDSCALE_CONFIG stops `wedscale serve` with one line naming the file and the key; a bad
WEDSCALE_RATE_LIMITS with one line naming the variable."""

from __future__ import annotations

from tests.integration.test_cli import env, run  # noqa: F401 — the shared CLI fixture


def test_serve_refuses_a_bad_config_in_one_line(env, tmp_path):  # noqa: F811
    bad = tmp_path / "wedscale.toml"
    bad.write_text("[services.api]\nmax_instances = 1\nmin_instances = 3\n")
    result = run({**env, "WEDSCALE_CONFIG": str(bad)}, "serve", "--port", "8109", check=False, real=True)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bad) in lines[0] and "services.api.max_instances" in lines[0]
    assert "Traceback" not in result.stderr


def test_one_shot_commands_read_the_config_too(env, tmp_path):  # noqa: F811
    good = tmp_path / "wedscale.toml"
    good.write_text('[rate_limits]\npush = "100/minute"\n')
    assert run({**env, "WEDSCALE_CONFIG": str(good)}, "alerts", "list").returncode == 0
    good.write_text('[rate_limits]\npush = "fast"\n')
    failed = run({**env, "WEDSCALE_CONFIG": str(good)}, "alerts", "list", check=False)
    assert failed.returncode != 0 and "rate_limits.push" in failed.stderr


def test_serve_refuses_a_bad_rate_limit_variable_in_one_line(env):  # noqa: F811
    result = run({**env, "WEDSCALE_RATE_LIMITS": "monitoring=lots"}, "serve", "--port", "8109",
                 check=False, real=True)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: bad configuration: WEDSCALE_RATE_LIMITS: monitoring: must look like")
