"""Replay: the cluster model on small synthetic traces, the reference policies, causality."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from engine.scaling.replay import run_replay

T0 = datetime(2025, 5, 1)


def write_trace(path: Path, demand: list[float], start: datetime = T0) -> Path:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["timestamp", "demand_rps"])
        for i, value in enumerate(demand):
            out.writerow([(start + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S"), f"{value:.3f}"])
    return path


def write_calendar(path: Path, rows: list[tuple[datetime, int, float]]) -> Path:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["date", "start_time", "guest_count", "expected_peak_rps"])
        for start, guests, peak in rows:
            out.writerow([start.strftime("%Y-%m-%d"), start.strftime("%H:%M"), guests, peak])
    return path


def read_timeline(path: Path) -> list[dict]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def synthetic_day_trace(days: int, seed: int = 3) -> list[float]:
    """Daily cycle, noise, a flash spike on day 1 and a ceremony-like jump on day 2."""
    rng = np.random.default_rng(seed)
    minutes = np.arange(days * 1440)
    base = 500 + 300 * np.sin(2 * np.pi * (minutes % 1440) / 1440 - np.pi / 2)
    demand = base * rng.normal(1.0, 0.05, len(minutes))
    demand[1440 + 600: 1440 + 640] *= 2.2
    demand[2 * 1440 + 840: 2 * 1440 + 900] += 1500
    return list(np.maximum(demand, 0.0))


# -- hpa by hand ---------------------------------------------------------------------------

def test_hpa_reproduces_a_hand_computed_step(tmp_path):
    """350 req/s for 30 min, then 790 req/s: every HPA step worked out by hand.

    Start: needed(350) = ceil(350 / 70) = 5 ready, u = 0.7, within tolerance.
    Step 120 (minute 30) the demand jumps; u = 790 / 500 = 1.58. The metric lags 3 steps:
    - k=123: m = (3 × 0.7 + 1.58) / 4 = 0.92, load = 4.6, 4.6 / 3.5 > 1.1 → ceil(4.6 / 0.7) = 7
    - k=124: load = 5.7, current 7: 5.7 / 4.9 = 1.16 → ceil(8.14) = 9
    - k=125: load = 6.8, 6.8 / 6.3 = 1.08 → within → 9
    - k=126: load = 7.9, 7.9 / 6.3 = 1.25 → ceil(11.29) = 12; then 12 holds.
    Orders arrive 8 steps later: ready 7 at 131, 9 at 132, 12 at 134. Under: steps 120–131.
    """
    trace = write_trace(tmp_path / "step.csv", [350.0] * 30 + [790.0] * 30)
    timeline = tmp_path / "timeline.csv"
    out = run_replay(trace, "hpa", timeline_csv=timeline)
    rows = read_timeline(timeline)
    ordered = [int(r["ordered"]) for r in rows]
    ready = [int(r["ready"]) for r in rows]
    assert ordered[:123] == [5] * 123
    assert ordered[123:128] == [7, 9, 9, 12, 12]
    assert set(ordered[126:]) == {12}
    assert ready[130:135] == [5, 7, 9, 9, 12]
    assert rows[120]["timestamp"] == "2025-05-01 00:30:00"
    assert float(rows[120]["demand_rps"]) == 790.0
    # scored window: the second half of a trace shorter than 14 days = steps 120..239
    assert out["scored_minutes"] == 30
    assert out["under_provisioned_time_frac"] == pytest.approx(12 / 120)
    assert out["instance_hours"] == pytest.approx((3 * 5 + 7 + 2 * 9 + 114 * 12) * 15 / 3600)
    assert out["scaling_actions"] == 3
    assert out["peak_instances"] == 12


def test_static_and_oracle(tmp_path):
    demand = [350.0] * 30 + [790.0] * 30
    trace = write_trace(tmp_path / "step.csv", demand)
    static = run_replay(trace, "static")
    assert static["scaling_actions"] == 0
    assert static["peak_instances"] == math.ceil(np.percentile(demand, 95) / 70)
    timeline = tmp_path / "oracle.csv"
    oracle = run_replay(trace, "oracle", timeline_csv=timeline)
    assert oracle["under_provisioned_time_frac"] == 0.0
    assert oracle["cost_ratio_vs_oracle"] == 1.0
    ordered = [int(r["ordered"]) for r in read_timeline(timeline)]
    assert ordered[111] == 5 and ordered[112] == 12   # ordered exactly 8 steps ahead of 120


# -- wedscale ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wedding_inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wedding")
    trace = write_trace(tmp / "trace.csv", synthetic_day_trace(3))
    ceremony = T0 + timedelta(days=2, hours=14)
    calendar = write_calendar(tmp / "cal.csv", [(ceremony, 180, 2000.0)])
    return tmp, trace, calendar, ceremony


def test_wedscale_runs_and_is_json(wedding_inputs):
    tmp, trace, calendar, _ = wedding_inputs
    out = run_replay(trace, "wedscale", calendar_csv=calendar)
    json.dumps(out)
    assert out["policy"] == "wedscale"
    assert out["ceremonies_scored"] == 1
    assert out["ceremonies_ready_frac"] == 1.0
    assert sum(out["decisions"].values()) > 0
    assert 0.0 <= out["under_provisioned_time_frac"] <= 1.0


def test_wedscale_respects_min_max_and_step_limits(wedding_inputs):
    tmp, trace, calendar, ceremony = wedding_inputs
    timeline = tmp / "tl.csv"
    out = run_replay(trace, "wedscale", calendar_csv=calendar, timeline_csv=timeline)
    rows = read_timeline(timeline)
    ordered = [int(r["ordered"]) for r in rows]
    assert min(ordered) >= 2 and max(ordered) <= 200
    emergencies = sum(n for k, n in out["decisions"].items() if k.startswith("emergency"))
    big_ups = sum(1 for a, b in zip(ordered, ordered[1:]) if b > max(math.floor(a * 1.5), a + 1))
    assert big_ups <= emergencies             # only an emergency may jump past +50 %
    for a, b in zip(ordered, ordered[1:]):
        assert b >= min(math.ceil(a * 0.7 - 1e-9), a - 1)  # never more than −30 % a step
    # no scale-down inside the wedding window [start − 2 h, start + 6 h]
    lo = int((ceremony - timedelta(hours=2) - T0).total_seconds() // 15)
    hi = int((ceremony + timedelta(hours=6) - T0).total_seconds() // 15)
    assert all(b >= a for a, b in zip(ordered[lo:hi], ordered[lo + 1:hi]))


def _perturbed(demand: list[float], cut: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    tail = np.abs(rng.normal(np.mean(demand), 3 * np.std(demand) + 1, len(demand) - cut))
    return demand[:cut] + list(tail)


@pytest.mark.parametrize("policy", ["wedscale", "hpa"])
def test_causal_perturbing_the_future_keeps_the_past(tmp_path, policy, wedding_inputs):
    _, _, calendar, _ = wedding_inputs
    demand = synthetic_day_trace(3)
    cut = int(len(demand) * 0.6)
    outs = []
    for tag, values in (("orig", demand), ("pert", _perturbed(demand, cut, 11))):
        trace = write_trace(tmp_path / f"{tag}.csv", values)
        timeline = tmp_path / f"{tag}.tl.csv"
        run_replay(trace, policy, calendar_csv=calendar, timeline_csv=timeline)
        outs.append(read_timeline(timeline))
    before = cut * 4  # steps whose minute is before the cut
    assert [(r["ready"], r["ordered"]) for r in outs[0][:before]] == \
        [(r["ready"], r["ordered"]) for r in outs[1][:before]]
    assert outs[0][before:] != outs[1][before:]  # the perturbation did reach the run


# -- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    ("time,demand\n2025-01-01 00:00:00,1\n", "missing column"),
    ("timestamp,demand_rps\n" + "".join(f"2025-01-01 00:{m:02d}:00,1\n" for m in range(59))
     + "2025-01-01 01:05:00,1\n", "1 minute apart"),
    ("timestamp,demand_rps\n" + "".join(f"2025-01-01 00:{m:02d}:00,1\n" for m in range(60))
     .replace("00:07:00,1", "00:07:00,-4"), "finite and >= 0"),
    ("timestamp,demand_rps\n" + "".join(f"2025-01-01 00:{m:02d}:00,1\n" for m in range(60))
     .replace("00:07:00,1", "00:07:00,abc"), "not a number"),
    ("timestamp,demand_rps\n" + "".join(f"2025-01-01 00:{m:02d}:00,1\n" for m in range(60))
     .replace("2025-01-01 00:07:00", "yesterday"), "bad time"),
    ("timestamp,demand_rps\n2025-01-01 00:00:00,1\n", "at least 60 minutes"),
])
def test_bad_trace_is_a_one_line_value_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        run_replay(path, "hpa")
    assert "\n" not in str(info.value)


def test_bad_policy_and_calendar(tmp_path):
    trace = write_trace(tmp_path / "ok.csv", [100.0] * 60)
    with pytest.raises(ValueError, match="unknown policy"):
        run_replay(trace, "magic")
    cal = tmp_path / "cal.csv"
    cal.write_text("date,start_time,guest_count,expected_peak_rps\n2025-05-01,25:99,10,100\n")
    with pytest.raises(ValueError, match="bad time"):
        run_replay(trace, "wedscale", calendar_csv=cal)
    cal.write_text("date,start_time,guests\n")
    with pytest.raises(ValueError, match="missing column"):
        run_replay(trace, "wedscale", calendar_csv=cal)
