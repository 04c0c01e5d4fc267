"""Field providers: everything the loop computes between sampling and credit.

A provider fills some ``RolloutBatch`` fields for a step's responses (the policy's own log-probs
and entropies, a frozen reference's log-probs, the privileged teacher's passes). The loop runs
only the providers whose fields the algorithm (or the loss) requires, in two phases: those that
do not need the verifier's verdicts while verification runs, then those that do.
"""

from creditzoo.providers.base import Provider, StepInputs, check_coverage
from creditzoo.providers.build import build_providers

__all__ = ["Provider", "StepInputs", "build_providers", "check_coverage"]
