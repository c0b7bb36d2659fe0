"""The WEDSCALE_CONFIG TOML loader: the example file, defaults, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config_file import load_config
from engine.config_model import RATE_LIMIT_CLASSES, ConfigError, FileConfig
from engine.detect.thresholds import NORMAL_DAY, WEDDING_DAY, Threshold
from engine.services import DEFAULT_SERVICES
from engine.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "seeds" / "wedscale.example.toml"
EXAMPLE_ENV = {"WEDSCALE_WEBHOOK_OPS_URL": "https://hooks.example.com/T0KEN-secret",
               "WEDSCALE_WEBHOOK_OPS_TOKEN": "tok-secret", "WEDSCALE_SMTP_PASSWORD": "smtp-secret"}


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "wedscale.toml"
    path.write_text(text)
    return path


def test_the_example_file_loads_and_documents_every_section():
    config, fields = load_config(EXAMPLE, EXAMPLE_ENV)
    assert [s.name for s in config.services] == [s.name for s in DEFAULT_SERVICES]
    assert config.services == DEFAULT_SERVICES  # the example restates the built-in catalogue
    assert config.source_kind == "simulator"
    assert config.prometheus.queries[("api", "cpu_pct")].startswith("avg(")
    assert config.thresholds_of("api", False)["latency_p95_ms"] == Threshold(800, 1500)
    assert config.thresholds_of("database", False)["latency_p95_ms"] == NORMAL_DAY["latency_p95_ms"]
    assert config.thresholds_of("api", True)["latency_p95_ms"] == Threshold(400, 800)
    hook, = config.notifications.webhooks
    assert hook.url == EXAMPLE_ENV["WEDSCALE_WEBHOOK_OPS_URL"] and hook.token == "tok-secret"
    assert config.notifications.emails[0].password == "smtp-secret"
    limits = fields.pop("rate_limits")
    assert fields == {"actuator_kind": "simulated", "kubernetes_namespace": "default",
                      "kubernetes_dry_run": False, "kubernetes_deployments": {"api": "wedding-api"}}
    from app.limits import DEFAULT_LIMITS

    assert limits == DEFAULT_LIMITS  # the example restates the built-in limits
    assert set(DEFAULT_LIMITS) == set(RATE_LIMIT_CLASSES)  # every class may be configured
    assert "secret" not in repr(config)  # secrets never reach a log line


def test_without_a_file_the_built_in_defaults_apply(tmp_path):
    settings = load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path)})
    assert settings.config == FileConfig()
    assert settings.config.services == DEFAULT_SERVICES
    assert settings.config.thresholds_of("api", True) == dict(WEDDING_DAY)
    assert (settings.actuator_kind, settings.kubernetes_namespace, settings.kubernetes_dry_run,
            settings.kubernetes_deployments) == ("simulated", "default", False, {})


def test_a_small_file_sets_only_what_it_names(tmp_path):
    path = _write(tmp_path, '''
[services.api]
max_instances = 10
[services.search]
min_instances = 1
max_instances = 4
capacity_rps = 50
cost_per_hour = 0.2
provisioning_delay_s = 30
base_rps = 20
critical = false
[source]
kind = "prometheus"
[source.prometheus]
base_url = "http://127.0.0.1:9090"
[source.prometheus.queries.search]
cpu_pct = "avg(cpu)"
[actuator]
kind = "kubernetes"
namespace = "weddings"
dry_run = true
[rate_limits]
push = "600000/minute"
''')
    settings = load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_CONFIG": str(path)})
    api, search = settings.config.services
    assert (api.name, api.max_instances, api.min_instances) == ("api", 10, 2)  # rest built in
    assert (search.name, search.capacity_rps, search.critical) == ("search", 50.0, False)
    assert settings.config.source_kind == "prometheus"
    assert settings.config.prometheus.step_s == 5.0
    assert (settings.actuator_kind, settings.kubernetes_namespace, settings.kubernetes_dry_run) == (
        "kubernetes", "weddings", True)
    assert settings.rate_limits == {"push": "600000/minute"}
    assert settings.config.notifications.webhooks == ()


@pytest.mark.parametrize("text, where", [
    ("[services.api]\nmax_instances = 1\nmin_instances = 2\n", "services.api.max_instances: must be >="),
    ("[services.newsvc]\nmin_instances = 1\n", "services.newsvc.max_instances: is required"),
    ("[services.api]\nmax_instance = 3\n", "services.api.max_instance: unknown key"),
    ("[services.api]\ncritical = \"yes\"\n", "services.api.critical: must be true or false"),
    ("[source]\nkind = \"graphite\"\n", "source.kind: must be one of simulator, prometheus, push"),
    ("[source]\nkind = \"prometheus\"\n", "source.prometheus: is required"),
    ("[source.prometheus]\nbase_url = \"http://p\"\n[source.prometheus.queries.nosuch]\ncpu_pct = \"x\"\n",
     "source.prometheus.queries.nosuch: unknown service"),
    ("[thresholds.normal]\ncpu_pct = { warning = 90, critical = 80 }\n",
     "thresholds.normal.cpu_pct.critical: must be >= warning"),
    ("[thresholds.normal]\ncpu = { warning = 1, critical = 2 }\n", "thresholds.normal.cpu: unknown metric id"),
    ("[[notifications.webhook]]\nname = \"x\"\nurl_env = \"NOPE_NOT_SET\"\n",
     "notifications.webhook[0].url_env: the environment variable NOPE_NOT_SET is not set"),
    ("[[notifications.email]]\nname = \"m\"\nhost = \"h\"\nfrom = \"a@b\"\nto = \"c@d\"\npassword = \"hunter2\"\n",
     "notifications.email[0].password: secrets are not accepted in the file"),
    ("[rate_limits]\npush = \"lots\"\n", 'rate_limits.push: must look like "6000/minute"'),
    ("[actuator]\nkind = \"ec2\"\n", "actuator.kind: must be one of simulated, kubernetes"),
    ("[anomaly]\nmetrics = [\"latency\"]\n", "anomaly.metrics: must be a list of metric ids"),
    ("colour = \"blue\"\n", "colour: unknown key"),
    ("[services\n", "not valid TOML"),
])
def test_errors_name_the_file_and_the_key(tmp_path, text, where):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path, {})
    message = str(error.value)
    assert message.startswith(f"{path}: ") and where in message, message
    assert "\n" not in message and "hunter2" not in message


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize("text, source_name", [
    ('[source]\nkind = "push"\n', "push"),
    ('[source]\nkind = "prometheus"\n[source.prometheus]\nbase_url = "http://127.0.0.1:1"\n'
     '[source.prometheus.queries.api]\ncpu_pct = "avg(cpu)"\n', "prometheus"),
    ('[source]\nkind = "simulator"\n', "simulator"),
])
def test_the_source_is_selectable(tmp_path, settings, text, source_name):
    from engine.bootstrap import build_engine

    config, _ = load_config(_write(tmp_path, text), {})
    engine = build_engine(settings.with_(config=config))
    assert engine.source.name == source_name
    assert len(engine.source.collect(engine.clock.now())) == 0 or source_name == "simulator"


def test_per_service_thresholds_drive_the_alerts(tmp_path, settings, clock):
    from engine.bootstrap import build_engine
    from engine.storage.models import AlertRow

    text = "[services.database.thresholds.normal]\ncpu_pct = { warning = 0.5, critical = 1 }\n" \
           "[services.database.thresholds.wedding_day]\ncpu_pct = { warning = 0.5, critical = 1 }\n"
    config, _ = load_config(_write(tmp_path, text), {})
    engine = build_engine(settings.with_(config=config), clock=clock, notifiers=[])
    engine.size_simulated_cluster()
    clock.advance(seconds=5)
    engine.collect_metrics()
    engine.evaluate_alerts()
    with engine.db.session() as session:
        cpu = {(r.service, r.severity) for r in session.query(AlertRow).filter_by(metric="cpu_pct")}
    assert cpu == {("database", "critical")}  # the others keep the 85/95 (70/85) defaults


def test_rate_limits_env_over_file_class_by_class(tmp_path):
    path = _write(tmp_path, '[rate_limits]\nmonitoring = "5/minute"\npush = "600/minute"\n')
    env = {"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_CONFIG": str(path)}
    assert load_settings(env=env).rate_limits == {"monitoring": "5/minute", "push": "600/minute"}
    both = load_settings(env={**env, "WEDSCALE_RATE_LIMITS": "monitoring=7/minute, health=9/second"})
    assert both.rate_limits == {"monitoring": "7/minute", "push": "600/minute", "health": "9/second"}
    assert "rate_limits" not in both.extra  # one home only
    only_env = load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_RATE_LIMITS": "actions=3/hour,"})
    assert only_env.rate_limits == {"actions": "3/hour"}


@pytest.mark.parametrize("value, where", [
    ("push=lots", 'WEDSCALE_RATE_LIMITS: push: must look like "6000/minute"'),
    ("push=10/fortnight", 'WEDSCALE_RATE_LIMITS: push: must look like "6000/minute"'),
    ("pushes=10/minute", "WEDSCALE_RATE_LIMITS: pushes: unknown route class (expected one of monitoring"),
    ("push:10/minute", "WEDSCALE_RATE_LIMITS: push:10/minute: must look like class=6000/minute"),
])
def test_a_bad_rate_limit_variable_is_one_line(tmp_path, value, where):
    with pytest.raises(ConfigError) as error:
        load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_RATE_LIMITS": value})
    message = str(error.value)
    assert message.startswith(where) and "\n" not in message, message


def test_rate_limits_set_in_code_are_checked_at_startup(tmp_path):
    from app.limits import checked_limits
    from engine.settings import Settings

    base = Settings(database_url="sqlite://", secret_key="k", var_dir=tmp_path)
    assert checked_limits(base.with_(rate_limits={"health": "2/second"})) == {"health": "2/second"}
    with pytest.raises(ConfigError, match=r'^rate_limits\.health: must look like "6000/minute"'):
        checked_limits(base.with_(rate_limits={"health": "fast"}))
    with pytest.raises(ConfigError, match=r"belong in Settings\.rate_limits"):
        checked_limits(base.with_(extra={"rate_limits": {"health": "2/second"}}))


def test_access_windows_ttl_from_the_environment(tmp_path):
    env = {"WEDSCALE_VAR_DIR": str(tmp_path)}
    assert load_settings(env=env).access_windows_ttl_s == 30.0
    assert load_settings(env={**env, "WEDSCALE_ACCESS_WINDOWS_TTL_S": "5"}).access_windows_ttl_s == 5.0
    for bad in ("-1", "soon", "inf"):
        with pytest.raises(ConfigError, match="^WEDSCALE_ACCESS_WINDOWS_TTL_S: must be a number of seconds >= 0"):
            load_settings(env={**env, "WEDSCALE_ACCESS_WINDOWS_TTL_S": bad})


@pytest.mark.parametrize("name, value", [
    ("WEDSCALE_SESSION_IDLE_MINUTES", "thirty"), ("WEDSCALE_SESSION_IDLE_MINUTES", "0"),
    ("WEDSCALE_SESSION_IDLE_MINUTES", "2.5"), ("WEDSCALE_COLLECT_INTERVAL_S", "nan"),
    ("WEDSCALE_COLLECT_INTERVAL_S", "0"), ("WEDSCALE_BACKFILL_DAYS", "-1"), ("WEDSCALE_SLOW_QUERY_MS", "fast"),
])
def test_a_bad_number_variable_is_one_line_naming_it(tmp_path, name, value):
    with pytest.raises(ConfigError) as error:
        load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), name: value})
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{name}: ") and repr(value) in message


def test_number_variables_are_read(tmp_path):
    settings = load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_SESSION_IDLE_MINUTES": "45",
                                  "WEDSCALE_BACKFILL_DAYS": "0", "WEDSCALE_JOB_INTERVALS": "collect=2.5"})
    assert (settings.session_idle_minutes, settings.backfill_days) == (45, 0)
    assert settings.job_intervals_s == {"collect": 2.5}


def test_a_bad_job_interval_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"^WEDSCALE_JOB_INTERVALS: collect: .*'soon'"):
        load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_JOB_INTERVALS": "collect=soon"})


def test_an_actuator_table_overrides_only_the_keys_it_names(tmp_path):
    env = {"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_ACTUATOR": "kubernetes",
           "WEDSCALE_K8S_NAMESPACE": "prod", "WEDSCALE_K8S_DRY_RUN": "true"}
    only_deployments = _write(tmp_path, '[actuator.deployments]\napi = "api-web"\n')
    settings = load_settings(env={**env, "WEDSCALE_CONFIG": str(only_deployments)})
    assert (settings.actuator_kind, settings.kubernetes_namespace, settings.kubernetes_dry_run) == \
        ("kubernetes", "prod", True)
    assert settings.kubernetes_deployments == {"api": "api-web"}
    named = _write(tmp_path, '[actuator]\nkind = "simulated"\n')
    settings = load_settings(env={**env, "WEDSCALE_CONFIG": str(named)})
    assert (settings.actuator_kind, settings.kubernetes_namespace) == ("simulated", "prod")
