"""The policy simulator's fixed texts: the method note and the style of its summary.

>>> "common random numbers" in METHOD
True
"""

from __future__ import annotations

__all__ = ["CSS", "METHOD", "SAME"]

SAME = "Nothing was changed: both columns are the baseline."

CSS = """
<style>
.rpm-app .rpm-summary { font-size: 14px; line-height: 20px; padding: 6px 10px;
  border-left: 3px solid #c2185b; background: #fbf5f8; margin: 4px 0 6px 0; }
</style>
"""

METHOD = (
    "<b>Baseline.</b> The ledger's history up to the as-of date (the 12 months before it) "
    "calibrates the simulator (<code>rpmkit.sim.Scenario.from_ledger</code>): sales per "
    "segment (rate, amounts, terms), how each segment pays relative to its due date once the "
    "effect of the dunning in place is taken out, default, dispute rates and resolution "
    "times. The dunning steps and the day of agency placement are read off the ledger's "
    "collection activities, and so is how much each channel hastens payment where the ledger "
    "can tell (some invoices of an age chased, others not yet); where it cannot, and for "
    "collectors and credit policy, which a ledger does not record, the documented defaults "
    "hold (<code>scenarios/baseline.yaml</code>). The simulation "
    "starts the day after the as-of date with the ledger's open items "
    "(<code>rpmkit.sim.opening_balance</code>), so the first weeks are mostly the book "
    "collecting. <b>Changed policy.</b> The same scenario with the levers you set; payer "
    "behaviour responds to them as documented in <code>docs/simulation.md</code> (e.g. a "
    "share of payers keeps paying relative to the invoice date when terms change; discount "
    "take-up grows with the rate). <b>Run.</b> Both policies run the same replications under "
    "<b>common random numbers</b>: replication r of each sees the same orders, amounts and "
    "payers, so only what the policy changes differs (<code>rpmkit.sim.compare</code>). "
    "<b>Bands</b>: per day, the 10th, 50th and 90th percentile across replications (the "
    "dashed line is when today's open items fall due; the solid dark line, open AR as the "
    "ledger says it). <b>Tiles and table</b>: the mean of the paired differences (changed − "
    "baseline) with a 95 % t interval over the replications; a difference whose interval "
    "includes zero is reported as noise and not coloured. <b>Cash in the first N days</b>: "
    "receipts (agency recoveries included) from the start. <b>DSO at the end</b>: standard "
    "DSO of the last month end of the horizon (<code>rpmkit.kpi</code>, month periods). "
    "<b>Bad-debt ratio</b>: write-offs over the horizon as a percentage of its credit sales. "
    "<b>Collection cost</b>: dunning and call cost + discounts granted + agency fees. "
    "<b>Variance ratio</b> (download): variance of the paired difference over the sum of the "
    "two variances; far below 1 shows what the pairing saves."
)
