"""The collector worklist: dunning policy, ranking by expected cash per hour, letters, replay.

>>> from rpmkit.worklist import DunningPolicy
>>> DunningPolicy.default().steps[0].name
'courtesy_reminder'
"""

from rpmkit.worklist.letters import tone, write_letters
from rpmkit.worklist.policy import DunningPolicy, DunningStep
from rpmkit.worklist.rank import Worklist, rank_items
from rpmkit.worklist.replay import WorklistReplay

__all__ = [
    "DunningPolicy",
    "DunningStep",
    "Worklist",
    "WorklistReplay",
    "rank_items",
    "tone",
    "write_letters",
]
