"""The live page in Chromium: it extends its graphs, pausing stops updates, 7 d shows 10 min buckets with a drawn band,
a stopped source shows the stale state, an incident's alert is marked on the charts and the
overview, and the theme switch persists per browser.

Ticks are fast (``live_interval_ms`` 500 in test settings); the tests move the ManualClock and
collect by hand, and wait (bounded) on what the page shows — never a blind sleep.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from engine.security.permissions import Role
from tests.browser.conftest import REDRAWN, browser_login
from tests.integration.test_alerts import raise_latency_alert

pytestmark = pytest.mark.browser

GRAPH_JS = "const g = document.querySelector('#live-graph .js-plotly-plot'); "
POINTS_JS = GRAPH_JS + "return g && g.data ? g.data[0].x.length : -1;"
LAST_CPU_JS = GRAPH_JS + "return g && g.data && g.data[0].y.length ? g.data[0].y[g.data[0].y.length - 1] : null;"
META_JS = GRAPH_JS + "return g && g.layout && g.layout.meta ? g.layout.meta.resolution : null;"
BAND_JS = GRAPH_JS + ("const t = g && g.data ? g.data.find(d => d.name === 'cpu_pct max') : null; "
                      "return t ? t.y.length : -1;")
# The band is an SVG fill (a scattergl "tonexty" fill is never drawn): its paths must have a shape.
FILLS_JS = GRAPH_JS + ("return g ? Array.from(g.querySelectorAll('path.js-fill'))"
                       ".filter(p => (p.getAttribute('d') || '').length > 20).length : 0;")
ANNOTATIONS_JS = GRAPH_JS + "return g && g.layout ? (g.layout.annotations || []).map(a => a.text) : [];"


def _text(dash_duo, element_id: str) -> str:
    return dash_duo.driver.execute_script(f"const e = document.getElementById('{element_id}');"
                                          "return e ? e.textContent : '';")


def _int(dash_duo, element_id: str) -> int:
    text = _text(dash_duo, element_id)
    return int(text) if text.isdigit() else 0


def collect(engine, clock, steps: int = 1) -> None:
    for _ in range(steps):
        clock.advance(seconds=5)
        engine.collect_metrics()


def open_live(served, engine, role=Role.SCALABILITY_VIEWER) -> None:
    browser_login(served, engine, role)
    served.driver.get(served.server.url + "/live")
    served.wait_for_element("#live-graph .js-plotly-plot", timeout=20)
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(lambda d: d.execute_script(POINTS_JS) > 0)


def wait(served, condition, timeout: float = 20):
    return WebDriverWait(served.driver, timeout, ignored_exceptions=REDRAWN).until(lambda d: condition())


def test_live_graph_extends_with_the_collected_values(served, engine, clock):
    collect(engine, clock, 3)
    open_live(served, engine)
    counts = [served.driver.execute_script(POINTS_JS)]
    for _ in range(3):
        collect(engine, clock)
        wait(served, lambda: served.driver.execute_script(POINTS_JS) > counts[-1])
        counts.append(served.driver.execute_script(POINTS_JS))
    assert counts == sorted(set(counts)) and counts[-1] == counts[0] + 3
    expected_cpu = engine.store.series("api", "cpu_pct", 0)[1][-1]
    assert served.driver.execute_script(LAST_CPU_JS) == pytest.approx(expected_cpu, rel=5e-4)  # 4 digits
    assert served.driver.execute_script(ANNOTATIONS_JS).count("raw 5 s") == 1


def test_pausing_stops_updates_until_resumed(served, engine, clock):
    collect(engine, clock, 3)
    open_live(served, engine)
    wait(served, lambda: _int(served, "live-applied") >= 1)
    served.find_element("#live-pause").click()
    wait(served, lambda: served.find_element("#live-pause").text == "Resume")
    # Let any tick already in flight land, then freeze the counts.
    beat = _int(served, "live-heartbeat")
    wait(served, lambda: _int(served, "live-heartbeat") >= beat + 2)
    points, applied = served.driver.execute_script(POINTS_JS), _int(served, "live-applied")
    collect(engine, clock, 2)  # new data the page would show if it were not paused
    beat = _int(served, "live-heartbeat")
    wait(served, lambda: _int(served, "live-heartbeat") >= beat + 4)  # four intervals went by
    assert served.driver.execute_script(POINTS_JS) == points
    assert _int(served, "live-applied") == applied
    served.find_element("#live-pause").click()
    wait(served, lambda: served.driver.execute_script(POINTS_JS) == points + 2)


def test_seven_days_show_ten_minute_buckets_with_a_drawn_band(served, engine, clock):
    now = clock.now()
    engine.store.ingest(engine.source.backfill(now - timedelta(hours=2), now, step_s=5))
    collect(engine, clock)
    open_live(served, engine)
    assert served.driver.execute_script(META_JS) == "raw"
    served.find_element("#live-range-7d").click()
    wait(served, lambda: served.driver.execute_script(META_JS) == "10m")
    assert _text(served, "live-resolution").startswith("10 min buckets of 1 min rollups")
    assert served.find_element("#live-resolution").is_displayed()
    assert served.driver.execute_script(BAND_JS) == 12  # two hours of closed 10 min buckets
    assert any("10 min buckets" in (t or "") for t in served.driver.execute_script(ANNOTATIONS_JS))
    wait(served, lambda: served.driver.execute_script(FILLS_JS) >= 6)  # one band per banded metric


def test_stopped_source_shows_the_stale_state(served, engine, clock):
    collect(engine, clock, 3)
    open_live(served, engine)
    served.wait_for_element("#live-fresh", timeout=20)
    engine.source.stop()
    collect(engine, clock, 12)  # the clock runs on, nothing arrives
    served.wait_for_contains_text("#live-stale", "Data is stale since 14:00 UTC", timeout=20)
    engine.source.resume()
    collect(engine, clock)
    served.wait_for_element("#live-fresh", timeout=20)


def test_empty_store_shows_the_empty_state(served, engine):
    browser_login(served, engine, Role.SCALABILITY_VIEWER)
    served.driver.get(served.server.url + "/live")
    served.wait_for_element("#live-empty", timeout=20)


def test_incident_alert_is_marked_on_the_chart_and_the_overview(served, engine, clock):
    collect(engine, clock, 3)
    alert = raise_latency_alert(engine, clock)
    browser_login(served, engine, Role.SCALABILITY_OPERATOR)
    served.wait_for_element("#overview-status-api", timeout=20)
    wait(served, lambda: served.find_element("#overview-status-api").text == "critical")
    served.wait_for_text_to_equal("#overview-status-database", "ok", timeout=20)
    served.driver.get(served.server.url + "/live")
    served.wait_for_element("#live-graph .js-plotly-plot", timeout=20)
    wait(served, lambda: "⚠ critical (firing)" in served.driver.execute_script(ANNOTATIONS_JS))
    assert alert.state == "firing"  # acknowledging in the UI: tests/browser/test_alerts_ui.py


def test_theme_switch_is_kept_per_browser(served, engine, clock):
    collect(engine, clock, 3)
    open_live(served, engine)
    theme = lambda: served.driver.execute_script(  # noqa: E731
        "return document.documentElement.getAttribute('data-bs-theme');")
    template_bg = lambda: served.driver.execute_script(  # noqa: E731
        GRAPH_JS + "return g._fullLayout.template.layout.font.color;")
    assert theme() == "dark"
    dark_font = template_bg()
    served.find_element("#theme-toggle").click()
    wait(served, lambda: theme() == "light")
    wait(served, lambda: template_bg() != dark_font)
    served.driver.refresh()
    served.wait_for_element("#live-graph .js-plotly-plot", timeout=20)
    wait(served, lambda: theme() == "light")
