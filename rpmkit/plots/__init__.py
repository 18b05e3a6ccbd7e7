"""Figures for the apps and result objects: data in, :class:`plotly.graph_objects.Figure` out.

No widgets and no I/O. :mod:`rpmkit.plots.core` holds the shared colours, axes
and the KPI/aging figures; each analytics area keeps its figures in a sibling
module, all re-exported here so callers write ``rpmkit.plots.name``.
"""

from rpmkit.plots.behaviour import decomposition_panels, payment_trend_lines, slope_intervals
from rpmkit.plots.cashapp import dispute_pareto, rate_bars, threshold_curve
from rpmkit.plots.cohorts import cohort_heatmap, vintage_heatmap, vintage_lines
from rpmkit.plots.core import (
    BUCKET_COLOURS,
    KPI_COLOURS,
    KPI_LABELS,
    SEGMENT_COLOURS,
    aging_bars,
    bucket_colours,
    compact_money,
    coverage_bars,
    currency_prefix,
    kpi_trend,
    money_axis,
    rejects_by_reason,
    segment_colour,
    side_by_side,
)
from rpmkit.plots.forecast import backtest_lines, forecast_bands, outlook_figure
from rpmkit.plots.risk import (
    grade_bars,
    model_quality,
    strategy_curves,
    worklist_bars,
    worklist_curve,
    worklist_view,
)
from rpmkit.plots.rollrate import allowance_bars, roll_rate_stability, transition_heatmap
from rpmkit.plots.sim import (
    LEDGER_COLOUR,
    SCENARIO_COLOURS,
    band_figure,
    policy_figure,
    scenario_colour,
)
from rpmkit.plots.survival import hazard_forest, km_curves

__all__ = [
    "grade_bars",
    "model_quality",
    "strategy_curves",
    "worklist_bars",
    "worklist_curve",
    "worklist_view",
    "backtest_lines",
    "forecast_bands",
    "outlook_figure",
    "dispute_pareto",
    "rate_bars",
    "threshold_curve",
    "LEDGER_COLOUR",
    "SCENARIO_COLOURS",
    "band_figure",
    "policy_figure",
    "scenario_colour",
    "hazard_forest",
    "km_curves",
    "allowance_bars",
    "roll_rate_stability",
    "transition_heatmap",
    "cohort_heatmap",
    "vintage_heatmap",
    "vintage_lines",
    "decomposition_panels",
    "payment_trend_lines",
    "slope_intervals",
    "BUCKET_COLOURS",
    "KPI_COLOURS",
    "KPI_LABELS",
    "SEGMENT_COLOURS",
    "aging_bars",
    "bucket_colours",
    "compact_money",
    "coverage_bars",
    "currency_prefix",
    "kpi_trend",
    "money_axis",
    "rejects_by_reason",
    "segment_colour",
    "side_by_side",
]
