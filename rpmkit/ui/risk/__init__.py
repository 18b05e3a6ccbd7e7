"""The **Credit risk and worklist** app (:class:`CreditRiskApp`) and its tables.

>>> from rpmkit.ui.risk import CreditRiskApp
>>> CreditRiskApp(None).notice.text
'No ledger to show.'
"""

from rpmkit.ui.risk.app import CreditRiskApp

__all__ = ["CreditRiskApp"]
