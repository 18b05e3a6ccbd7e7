"""The simulation figures: scenario colours by position, bands, the policy simulator's pair."""

from __future__ import annotations

import pandas as pd

from rpmkit.plots.sim import LEDGER_COLOUR, SCENARIO_COLOURS, band_figure, policy_figure

DAYS = pd.date_range("2025-01-01", periods=4)


def band(level: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": DAYS,
            "p10": [level - 1] * 4,
            "p50": [level] * 4,
            "p90": [level + 1] * 4,
        }
    )


def test_band_figure_draws_each_scenario_in_its_colour():
    fig = band_figure({"base": band(10), "other": band(20)}, title="t", y_title="y", currency="EUR")
    assert len(fig.data) == 6
    upper, lower, middle = fig.data[3:6]
    assert list(upper.y) == [21.0] * 4 and list(lower.y) == [19.0] * 4 and lower.fill == "tonexty"
    assert middle.name == "other P50" and middle.line.color == SCENARIO_COLOURS[1]
    assert fig.data[2].line.color == SCENARIO_COLOURS[0]
    assert lower.fillcolor == "rgba(194,24,91,0.2)"  # the changed policy's magenta, light
    assert fig.layout.yaxis.tickprefix == "€"


def test_policy_figure_puts_cash_left_and_ar_right():
    due = pd.DataFrame({"date": DAYS, "value": [5.0, 6.0, 7.0, 8.0]})
    history = pd.DataFrame({"date": DAYS - pd.Timedelta(days=4), "value": [1.0, 2.0, 3.0, 4.0]})
    fig = policy_figure(
        {"baseline": band(10), "changed policy": band(12)},
        {"baseline": band(30), "changed policy": band(25)},
        currency="USD",
        due=due,
        history=history,
    )
    left = [t for t in fig.data if (t.xaxis or "x") == "x"]
    right = [t for t in fig.data if t.xaxis == "x2"]
    assert len(left) == len(right) == 7
    assert left[0].name == "open items falling due" and left[0].line.dash == "dash"
    assert right[0].name == "ledger" and right[0].line.color == LEDGER_COLOUR
    assert list(right[-1].y) == [25.0] * 4 and right[-1].name == "changed policy P50"
    # the scenarios are named once, on the left; the right legend names the ledger line
    assert [t.name for t in right if t.name and t.showlegend is not False] == ["ledger"]
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Cash received, cumulative", "Open AR"]
    assert fig.layout.yaxis2.tickprefix == "$"


def test_before_a_run_the_figure_says_what_to_do():
    fig = policy_figure({}, {}, currency="USD", note="Press Run to simulate")
    assert len(fig.data) == 0
    assert [a.text for a in fig.layout.annotations].count("Press Run to simulate") == 2
