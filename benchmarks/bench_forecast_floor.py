"""Benchmark: the best MASE a daily-profile forecaster could reach on a series, in hindsight.

The forecast goal asks for a MASE 10 % below the best baseline of
``../shared/benchmarks/forecast_dev_anchors.md`` on every series. On a series that is a fixed
daily cycle plus independent noise, no forecaster can do better than the true daily profile:
the noise cannot be predicted. This script writes the **hindsight profile** forecast — every
hour forecast by the mean of that hour of the day over the *whole* series, future included
(so it is not a forecaster, only a reference) — and the **causal profile** forecast (the mean
of that hour over the days before the origin: the same idea with only the data the protocol
allows), in the protocol's file format, and scores both with the official
``forecast_score.py`` (imported, not copied), next to the goal. It also prints how
independent the noise is: the correlation ``rho`` of the residuals (value − hindsight
profile) with the previous hour and with the same hour the day before (over ``n`` days, the
mean removal alone makes the latter about ``-1/(n-1)``). Exploiting a residual correlation
perfectly shrinks a Gaussian error by at most ``sqrt(1 - rho^2)`` (3 % for ``rho = -0.25``);
a 24 h horizon can only use the day-before one. When the correlations are that small, no
forecaster can get much below the hindsight profile, and the causal profile shows the price
of estimating the profile from 8–13 days.

    .venv/bin/python benchmarks/bench_forecast_floor.py [--series CSV ...] [--origins N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared"
sys.path.insert(0, str(SHARED / "benchmarks"))

import forecast_score  # noqa: E402  (the protocol's scorer, unchanged)

SERIES = SHARED / "data" / "series"
# best baseline MASE per dev series, from forecast_dev_anchors.md
BEST_BASELINE = {"elb_request_count_8c0756": ("prophet", 0.7819),
                 "art_daily_small_noise": ("ets_hw24", 0.8367)}


def hindsight_profile_forecast(series: pd.Series, origins: list[pd.Timestamp]) -> pd.DataFrame:
    """Return the protocol's forecast frame where yhat = mean of that hour over the series."""
    profile = series.groupby(series.index.hour).mean()
    rows = []
    for origin in origins:
        for k in range(24):
            ts = origin + pd.Timedelta(hours=k)
            f = float(profile[ts.hour])
            rows.append({"origin": origin, "timestamp": ts, "actual": float(series[ts]),
                         "yhat": f, "p10": f, "p90": f})
    return pd.DataFrame(rows)


def causal_profile_forecast(series: pd.Series, origins: list[pd.Timestamp]) -> pd.DataFrame:
    """Return the forecast frame where yhat = mean of that hour over the days before the origin."""
    frames = []
    for origin in origins:
        history = series[series.index < origin]
        profile = history.groupby(history.index.hour).mean()
        index = pd.date_range(origin, periods=24, freq="h")
        yhat = profile.reindex(index.hour).to_numpy()
        frames.append(pd.DataFrame({"origin": origin, "timestamp": index, "actual": series[index].to_numpy(),
                                    "yhat": yhat, "p10": yhat, "p90": yhat}))
    return pd.concat(frames, ignore_index=True)


def residual_correlations(series: pd.Series) -> tuple[float, float]:
    """Return the lag-1 h and lag-24 h autocorrelation of the residuals to the profile."""
    resid = (series - series.groupby(series.index.hour).transform("mean")).to_numpy()
    return (float(np.corrcoef(resid[:-1], resid[1:])[0, 1]),
            float(np.corrcoef(resid[:-24], resid[24:])[0, 1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=Path, nargs="*",
                        default=[SERIES / f"{name}.hourly.csv" for name in BEST_BASELINE])
    parser.add_argument("--origins", type=int, default=6)
    args = parser.parse_args(argv)
    print("| series | hindsight profile MASE | causal profile MASE | goal (0.9 × best baseline) "
          "| residual corr lag 1 h / 24 h |")
    print("|---|---|---|---|---|")
    for path in args.series:
        series = forecast_score.read_series(str(path))
        origins = forecast_score.daily_origins(series, args.origins, 8)
        hindsight = forecast_score.score(hindsight_profile_forecast(series, origins), series)["mase"]
        causal = forecast_score.score(causal_profile_forecast(series, origins), series)["mase"]
        name = path.name.split(".")[0]
        goal = f"{0.9 * BEST_BASELINE[name][1]:.3f} ({BEST_BASELINE[name][0]})" if name in BEST_BASELINE else "-"
        lag1, lag24 = residual_correlations(series)
        print(f"| {name} | {hindsight:.3f} | {causal:.3f} | {goal} | {lag1:+.2f} / {lag24:+.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
