"""Late-payment models: P(late) by logistic regression, days late by a Gamma hurdle.

:class:`LatePaymentModel` fits two transparent statsmodels GLMs on the
point-in-time features of :mod:`rpmkit.risk.features`:

* a binomial GLM (logit link) for the probability that an invoice is paid
  after its due date (``p_late``); a small ridge penalty is used only when
  the plain fit fails (perfect separation, singular design);
* a Gamma GLM (log link) for the days late of invoices that were late
  (``days_if_late``); the hurdle's expectation is
  ``expected_days_late = p_late × days_if_late``.

Numeric features are standardised with the training means and standard
deviations, so odds ratios are per standard deviation; ``segment`` enters as
dummies against its most common level.

Examples
--------
>>> from rpmkit.synth import generate
>>> from rpmkit.risk.features import invoice_features
>>> feats = invoice_features(generate(customers=60, years=1.0, seed=3).ledger)
>>> model = LatePaymentModel().fit(feats)
>>> model
LatePaymentModel(fitted on 813 invoices, 572 late; 15 terms)
>>> pred = model.predict(feats)
>>> bool(pred["p_late"].between(0, 1).all())
True
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from rpmkit.risk.features import FEATURES, LEAKY_COLUMNS

__all__ = ["LatePaymentModel"]

log = logging.getLogger("rpmkit.risk")

MIN_ROWS = 20
"""Fewer labelled invoices than this cannot fit a model."""
RIDGE = 1e-3


class LatePaymentModel:
    """P(late) and expected days late for invoices, from point-in-time features.

    Parameters
    ----------
    threshold
        Probability at or above which an invoice is classified late, in (0, 1).
    features
        Numeric feature columns to use (default :data:`FEATURES`); columns
        with no variation in the training data are dropped.
    use_segment
        Add ``segment`` dummies when there is more than one segment.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        features: tuple[str, ...] = FEATURES,
        use_segment: bool = True,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
        leaky = sorted(set(features) & set(LEAKY_COLUMNS))
        if leaky:
            raise ValueError(f"outcome columns cannot be features: {', '.join(leaky)}")
        self.threshold = float(threshold)
        self.features = tuple(features)
        self.use_segment = bool(use_segment)

    def __repr__(self) -> str:
        if not hasattr(self, "logit_"):
            return "LatePaymentModel(not fitted)"
        return (
            f"LatePaymentModel(fitted on {self.n_train_:,} invoices, {self.n_late_:,} late; "
            f"{len(self.terms_)} terms)"
        )

    # --------------------------------------------------------------- design
    def _design(self, feats: pd.DataFrame) -> np.ndarray:
        x = (feats[list(self.columns_)].to_numpy(dtype=float) - self.means_) / self.scales_
        parts = [np.ones((len(feats), 1)), x]
        if self.segments_:
            seg = feats["segment"].astype(str).to_numpy()
            parts.append(np.column_stack([(seg == s).astype(float) for s in self.segments_]))
        return np.column_stack(parts)

    def fit(self, features: pd.DataFrame) -> LatePaymentModel:
        """Fit both models on the rows of ``features`` whose outcome is known.

        ``features`` is a frame from :func:`~rpmkit.risk.features.invoice_features`
        (or a subset of its rows, e.g. a training period).
        """
        rows = features[features["outcome_known"].to_numpy(dtype=bool)]
        if len(rows) < MIN_ROWS:
            raise ValueError(
                f"need at least {MIN_ROWS} invoices with a known outcome to fit; got {len(rows)}"
            )
        y = rows["late"].astype(bool).to_numpy(dtype=float)
        if y.min() == y.max():
            raise ValueError("every training invoice has the same outcome; nothing to learn")
        values = rows[list(self.features)].to_numpy(dtype=float)
        sd = values.std(axis=0)
        keep = sd > 1e-9
        self.columns_ = tuple(c for c, k in zip(self.features, keep, strict=True) if k)
        self.means_ = values[:, keep].mean(axis=0)
        self.scales_ = sd[keep]
        self.segments_: tuple[str, ...] = ()
        if self.use_segment and "segment" in rows.columns:
            counts = rows["segment"].astype(str).value_counts()
            # the most common level is the baseline; rare levels stay in it
            self.segments_ = tuple(str(s) for s in counts.index[1:] if counts[s] >= MIN_ROWS)
        self.terms_ = ("intercept", *self.columns_, *(f"segment={s}" for s in self.segments_))
        x = self._design(rows)
        self.logit_, self.regularised_ = _fit_glm(y, x, sm.families.Binomial())
        # late invoices due long enough ago (so long delays are seen), open ones at
        # their days past due so far; all late ones when too few are mature
        bound = rows["days_late_bound"].to_numpy(dtype=float)
        late = (y == 1) & np.isfinite(bound) & (bound > 0)
        mature = late & rows["mature"].to_numpy(dtype=bool)
        if mature.sum() >= MIN_ROWS:
            late = mature
        days = bound[late]
        self.days_ = None
        self.mean_days_if_late_ = float(days.mean()) if len(days) else 0.0
        self.days_shape_ = 1.0
        if late.sum() >= MIN_ROWS:
            family = sm.families.Gamma(sm.families.links.Log())
            self.days_, ridge = _fit_glm(days, x[late], family)
            scale = float(getattr(self.days_, "scale", 1.0)) if not ridge else 1.0
            self.days_shape_ = 1.0 / scale if np.isfinite(scale) and scale > 0 else 1.0
        self.n_train_ = len(rows)
        self.n_late_ = int(y.sum())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "logit_"):
            raise ValueError("the model is not fitted; call fit() first")

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """``invoice_id`` (when present), ``p_late``, ``days_if_late``, ``expected_days_late``.

        Also ``median_days_if_late``, the median of the fitted Gamma of days late
        (below its mean ``days_if_late``; the better point for absolute error).
        """
        from scipy.stats import gamma

        self._check_fitted()
        x = self._design(features)
        p = np.clip(np.asarray(self.logit_.predict(x), dtype=float), 0.0, 1.0)
        if self.days_ is None:
            d = np.full(len(features), self.mean_days_if_late_)
        else:
            # cap the log-linear prediction at a year: extrapolated rows must not explode
            d = np.minimum(np.asarray(self.days_.predict(x), dtype=float), 365.0)
        # the Gamma's median: the point that minimises absolute error in days
        k = self.days_shape_
        median = d * (gamma.ppf(0.5, k) / k)
        out = pd.DataFrame(
            {
                "p_late": p,
                "days_if_late": d,
                "expected_days_late": p * d,
                "median_days_if_late": median,
            },
            index=features.index,
        )
        if "invoice_id" in features.columns:
            out.insert(0, "invoice_id", features["invoice_id"])
        return out

    def p_unpaid_after(
        self, predictions: pd.DataFrame, days_past_due: np.ndarray, horizon_days: float
    ) -> np.ndarray:
        """P(an open item is still unpaid ``horizon_days`` from now), given it is unpaid now.

        Days late given late follow the fitted Gamma (mean ``days_if_late``,
        shape from the fit's dispersion). Not yet due (``days_past_due <= 0``):
        ``p_late × S(horizon + days_past_due)``; past due by ``d``: the
        conditional ``S(d + horizon) / S(d)``.
        """
        from scipy.stats import gamma

        self._check_fitted()
        dpd = np.asarray(days_past_due, dtype=float)
        mean = np.maximum(predictions["days_if_late"].to_numpy(dtype=float), 0.5)
        k = self.days_shape_
        theta = mean / k
        s_then = gamma.sf(np.maximum(dpd + horizon_days, 0.0), k, scale=theta)
        s_now = gamma.sf(np.maximum(dpd, 0.0), k, scale=theta)
        p = predictions["p_late"].to_numpy(dtype=float)
        cond = np.where(s_now > 1e-12, s_then / np.maximum(s_now, 1e-12), 1.0)
        return np.clip(np.where(dpd <= 0, p * s_then, cond), 0.0, 1.0)

    def odds_ratios(self) -> pd.DataFrame:
        """Per term: coefficient, odds ratio per standard deviation, its 95 % interval, p-value."""
        self._check_fitted()
        params = np.asarray(self.logit_.params, dtype=float)
        out = pd.DataFrame({"term": self.terms_, "coef": params, "odds_ratio": np.exp(params)})
        if not self.regularised_:
            ci = np.asarray(self.logit_.conf_int(), dtype=float)
            out["ci_low"] = np.exp(ci[:, 0])
            out["ci_high"] = np.exp(ci[:, 1])
            out["p_value"] = np.asarray(self.logit_.pvalues, dtype=float)
        else:
            out["ci_low"] = out["ci_high"] = out["p_value"] = np.nan
        return out

    def summary(self) -> pd.DataFrame:
        """The odds-ratio table (:meth:`odds_ratios`)."""
        return self.odds_ratios()


def _fit_glm(y: np.ndarray, x: np.ndarray, family) -> tuple[object, bool]:
    """A GLM fit, falling back to a small ridge penalty when the plain fit fails."""
    model = sm.GLM(y, x, family=family)
    # Newton from the intercept-only solution: statsmodels' own start runs IRLS first,
    # whose least-squares solves cost more than the whole Newton fit.
    start = np.zeros(x.shape[1])
    start[0] = float(family.link(np.clip(np.mean(y), 1e-3, None if y.max() > 1 else 1 - 1e-3)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", category=RuntimeWarning)
            warnings.filterwarnings("ignore", message=".*divide by zero.*")
            result = model.fit(method="newton", maxiter=100, start_params=start)
        if np.all(np.isfinite(result.params)) and np.all(np.isfinite(result.bse)):
            return result, False
    except Exception as exc:
        log.info("plain GLM fit failed (%s); using a ridge penalty", exc)
    return model.fit_regularized(alpha=RIDGE, L1_wt=0.0), True
