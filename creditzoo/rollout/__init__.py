"""Rollout engines (sampling) and scoring passes (log-probs under the policy or a teacher).

Importing this package registers the built-in engines in ``sampler.ENGINES``: ``hf`` and
``static`` register themselves on import; ``vllm`` is registered by name only, so its optional
dependency is imported when the engine is built, not before.
"""

import creditzoo.rollout.hf
import creditzoo.rollout.static  # noqa: F401  (each registers on import)
from creditzoo.registry import lazy
from creditzoo.rollout.sampler import ENGINES

ENGINES.register("vllm", lazy("creditzoo.rollout.vllm:VLLMSampler"))
