"""Deterministic synthetic B2B receivables ledgers that look real.

``generate(SynthParams(...))`` returns a :class:`SynthResult` whose
``ledger`` has all eight canonical tables and whose ``truth`` holds the
hidden behaviour it was drawn from. Same parameters, same ledger, bit for bit.
See ``docs/synth.md`` for the model and ``data/samples/README.md`` for the
committed sample.
"""

from rpmkit.synth.model import SynthResult, generate, write_truth
from rpmkit.synth.params import SynthParams
from rpmkit.synth.specs import BehaviourSpec, SegmentSpec

__all__ = [
    "BehaviourSpec",
    "SegmentSpec",
    "SynthParams",
    "SynthResult",
    "generate",
    "write_truth",
]
