"""Cash application: match payments to the open invoices they pay, and measure how well.

>>> from rpmkit.cashapp import CashApplication, RULES
>>> RULES["reference"][0]
0.99
"""

from rpmkit.cashapp.candidates import RULES
from rpmkit.cashapp.customers import normalise_names, payer_candidates
from rpmkit.cashapp.engine import CashApplication, decide, withhold
from rpmkit.cashapp.evaluate import NOISE_TYPES, by_group, correctness, curve, score
from rpmkit.cashapp.references import extract, invoice_key
from rpmkit.cashapp.report import CashAppEvaluation, evaluate_sample

__all__ = [
    "NOISE_TYPES",
    "RULES",
    "CashAppEvaluation",
    "CashApplication",
    "by_group",
    "correctness",
    "curve",
    "decide",
    "evaluate_sample",
    "extract",
    "invoice_key",
    "normalise_names",
    "payer_candidates",
    "score",
    "withhold",
]
