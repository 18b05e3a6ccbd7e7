"""The policy simulator app (the CFO's what-if) and its widget-free logic.

:class:`PolicySimulatorApp` is the app; :mod:`rpmkit.ui.simulator.policy` (levers → scenario) and
:mod:`rpmkit.ui.simulator.outcome` (baseline from a ledger, the paired comparison,
tiles and sentences) hold what it computes, without widgets, so tests and
notebooks can call them directly.
"""

from rpmkit.ui.simulator.app import PolicySimulatorApp
from rpmkit.ui.simulator.outcome import Baseline, baseline, outcome, run_comparison, summary_text
from rpmkit.ui.simulator.policy import Policy, apply_policy, changes

__all__ = [
    "Baseline",
    "Policy",
    "PolicySimulatorApp",
    "apply_policy",
    "baseline",
    "changes",
    "outcome",
    "run_comparison",
    "summary_text",
]
