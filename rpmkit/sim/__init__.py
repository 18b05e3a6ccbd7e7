"""The policy simulator: a SimPy model of credit policy and collection strategy.

``Scenario`` (frozen, validated, YAML) → ``Model(scenario, replication).run()``
→ ``SimResult`` with the event records, a canonical :class:`~rpmkit.ledger.Ledger`
of the simulated invoices (so every ``rpmkit.kpi`` function runs on it), a
daily series and monthly KPIs. See ``docs/simulation.md``.
"""

from rpmkit.sim.calibrate import (
    BacktestResult,
    calibrate,
    calibration_summary,
    opening_balance,
    replay_backtest,
    undo_dunning,
)
from rpmkit.sim.calibrate_channels import channel_effects
from rpmkit.sim.calibrate_promises import promise_outcomes
from rpmkit.sim.comparison import Comparison, compare
from rpmkit.sim.model import Model, accelerate
from rpmkit.sim.orders import Orders, draw_orders, natural_payment_times
from rpmkit.sim.params import (
    Behaviour,
    Channels,
    Collections,
    Collectors,
    CreditPolicy,
    CustomerHabit,
    Disputes,
    DunningStep,
    PayerBehaviour,
    PaymentMethod,
    PromiseKeeping,
    Promises,
    Scenario,
    SegmentSales,
)
from rpmkit.sim.policies import (
    RULES,
    by_age,
    by_amount,
    by_expected_value,
    by_risk,
    fifo,
    get_rule,
)
from rpmkit.sim.random import PURPOSES, Streams
from rpmkit.sim.records import EVENT_KINDS, SimResult
from rpmkit.sim.runner import Runner, RunResult
from rpmkit.sim.validity import erlang_c, littles_law
from rpmkit.sim.workers import DAILY_MEASURES, KPIS, MONTHLY_KPIS, Replica, run_replication

__all__ = [
    "Comparison",
    "DAILY_MEASURES",
    "KPIS",
    "MONTHLY_KPIS",
    "Replica",
    "RunResult",
    "Runner",
    "compare",
    "run_replication",
    "BacktestResult",
    "calibrate",
    "calibration_summary",
    "opening_balance",
    "replay_backtest",
    "undo_dunning",
    "EVENT_KINDS",
    "PURPOSES",
    "RULES",
    "Behaviour",
    "Channels",
    "PaymentMethod",
    "PromiseKeeping",
    "Promises",
    "channel_effects",
    "promise_outcomes",
    "Collections",
    "Collectors",
    "CreditPolicy",
    "CustomerHabit",
    "Disputes",
    "DunningStep",
    "Model",
    "Orders",
    "PayerBehaviour",
    "Scenario",
    "SegmentSales",
    "SimResult",
    "Streams",
    "accelerate",
    "by_age",
    "by_amount",
    "by_expected_value",
    "by_risk",
    "draw_orders",
    "erlang_c",
    "fifo",
    "get_rule",
    "littles_law",
    "natural_payment_times",
]
