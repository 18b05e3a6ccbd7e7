"""Daily exchange rates: a random walk in log rates from approximate real levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit.synth import calendar, text
from rpmkit.synth.params import SynthParams
from rpmkit.synth.specs import CURRENCIES


def fx_rates(p: SynthParams, rng: np.random.Generator) -> pd.DataFrame:
    """Rates into the reporting currency for every business day from ``start`` (or the
    business day before it) to the end, one row per foreign currency and day."""
    first = calendar.backward(np.array([calendar.as_day(p.start_date.date())]))[0]
    days = np.arange(first, calendar.as_day(p.end_date.date()) + 1)
    days = days[np.is_busday(days)]
    frames = []
    base = CURRENCIES[p.reporting_currency][0]
    for code in p.foreign_currencies:
        z = rng.standard_normal(len(days))
        z[0] = 0.0
        rate = CURRENCIES[code][0] / base * np.exp(p.fx_daily_volatility * np.cumsum(z))
        frames.append(
            pd.DataFrame(
                {
                    "date": text.dates(days),
                    "currency": text.series(text.take([code], np.zeros(len(days), dtype=np.int64))),
                    "rate": np.round(rate, 6),
                }
            )
        )
    if not frames:
        return pd.DataFrame({"date": [], "currency": [], "rate": []})
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["date", "currency"], kind="stable", ignore_index=True)
