"""Credit risk: point-in-time features, late-payment models, validation, grades and limits.

>>> from rpmkit.risk import GradeCutoffs, assign_grades
>>> assign_grades([0.05, 0.95], [1.0, 60.0], GradeCutoffs()).tolist()
['A', 'E']
"""

from rpmkit.risk.evaluate import REFERENCE, RiskEvaluation, time_split
from rpmkit.risk.features import (
    EXTRA_FEATURES,
    FEATURES,
    FLAG_FEATURE,
    customer_features,
    invoice_features,
)
from rpmkit.risk.grades import GRADES, CustomerRisk, GradeCutoffs, assign_grades
from rpmkit.risk.limits import LimitPolicy, credit_limits
from rpmkit.risk.metrics import auc, calibration_table, classification_metrics, roc_points
from rpmkit.risk.models import LatePaymentModel
from rpmkit.risk.tuning import InnerValidation, f1_curve, inner_validation

__all__ = [
    "EXTRA_FEATURES",
    "FEATURES",
    "FLAG_FEATURE",
    "GRADES",
    "REFERENCE",
    "CustomerRisk",
    "GradeCutoffs",
    "InnerValidation",
    "LatePaymentModel",
    "LimitPolicy",
    "RiskEvaluation",
    "assign_grades",
    "auc",
    "calibration_table",
    "classification_metrics",
    "credit_limits",
    "customer_features",
    "f1_curve",
    "inner_validation",
    "invoice_features",
    "roc_points",
    "time_split",
]
