"""Benchmark: the four replay policies on the dev traces, as a table like replay_dev_anchors.md.

Runs ``engine.scaling.replay.run_replay`` (what ``wedscale replay`` runs) for ``static``,
``hpa``, ``oracle`` and ``wedscale`` on each dev trace, prints one Markdown table per trace
with the wall time of each run, then checks:

- ``static``, ``hpa``, ``oracle`` against ``replay_dev_anchors.md`` (1 % relative on
  instance-hours, 0.002 absolute on the fractions: the protocol's conformance rule);
- ``wedscale`` against its goals: under-provisioned time <= 1/5 of hpa's, cost ratio <= 1.15,
  every ceremony ready on the wedding trace.

    .venv/bin/python benchmarks/bench_replay.py [--traces DIR] [--anchors FILE]

Exit status 1 when a reference policy leaves the anchors.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.scaling.replay import run_replay  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
TRACES = (("wedding_dev_seed1", "wedding_dev_seed1.csv", "wedding_dev_seed1.calendar.csv"),
          ("elb_request_count_8c0756", "elb_request_count_8c0756.trace.csv", None))
POLICIES = ("static", "hpa", "oracle", "wedscale")
COLUMNS = ("under_provisioned_time_frac", "unserved_demand_frac", "instance_hours",
           "cost_ratio_vs_oracle", "ceremonies_ready_frac", "scaling_actions", "mean_utilization",
           "peak_instances", "seconds")
FRACTIONS = ("under_provisioned_time_frac", "unserved_demand_frac", "ceremonies_ready_frac")


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def read_anchors(path: Path) -> dict:
    """Return ``{trace: {policy: {column: value}}}`` from the anchors Markdown."""
    anchors, trace, header = {}, None, None
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            trace, header = line[3:].strip(), None
        elif line.startswith("| policy"):
            header = [c.strip() for c in line.strip("|").split("|")]
        elif trace and header and line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            row = {h: (None if c == "-" else float(c)) for h, c in zip(header[1:], cells[1:])}
            anchors.setdefault(trace, {})[cells[0]] = row
    return anchors


def check_anchor(got: dict, want: dict) -> list[str]:
    """Return the conformance failures of one reference run."""
    problems = []
    for column, expected in want.items():
        if expected is None or column not in got or got[column] is None or column == "seconds":
            continue
        value = float(got[column])
        if column in FRACTIONS and abs(value - expected) > 0.002:
            problems.append(f"{column} {value:.5g} vs anchor {expected:.5g}")
        if column == "instance_hours" and abs(value - expected) > 0.01 * expected:
            problems.append(f"{column} {value:.6g} vs anchor {expected:.6g}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", type=Path, default=SHARED / "data" / "traces")
    ap.add_argument("--anchors", type=Path, default=SHARED / "benchmarks" / "replay_dev_anchors.md")
    args = ap.parse_args()
    anchors = read_anchors(args.anchors) if args.anchors.exists() else {}
    failures = []
    for name, trace, calendar in TRACES:
        print(f"\n## {name}\n")
        print("| policy | " + " | ".join(COLUMNS) + " |")
        print("|---" * (len(COLUMNS) + 1) + "|")
        results = {}
        for policy in POLICIES:
            t0 = time.perf_counter()
            out = run_replay(args.traces / trace, policy,
                             calendar_csv=args.traces / calendar if calendar else None)
            out["seconds"] = round(time.perf_counter() - t0, 2)
            results[policy] = out
            print(f"| {policy} | " + " | ".join(_fmt(out.get(c)) for c in COLUMNS) + " |",
                  flush=True)
            want = anchors.get(name, {}).get(policy)
            if want and policy != "wedscale":
                failures += [f"{name} {policy}: {p}" for p in check_anchor(out, want)]
        ws, hpa = results["wedscale"], results["hpa"]
        goals = [("under <= hpa/5", ws["under_provisioned_time_frac"]
                  <= hpa["under_provisioned_time_frac"] / 5),
                 ("cost_ratio <= 1.15", ws["cost_ratio_vs_oracle"] <= 1.15)]
        if calendar:
            goals.append(("ceremonies_ready_frac = 1", ws.get("ceremonies_ready_frac") == 1.0))
        ratio = ws["under_provisioned_time_frac"] / max(hpa["under_provisioned_time_frac"], 1e-12)
        print(f"\nwedscale goals: " + ", ".join(f"{g}: {'met' if ok else 'NOT met'}" for g, ok in goals)
              + f" (under = {ratio:.2f} × hpa's); decisions {ws.get('decisions')}")
    print("\nanchors: " + ("all reference policies conform" if not failures else "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
