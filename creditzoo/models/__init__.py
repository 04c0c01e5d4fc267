"""Policy models: the embedded tiny model, offline SmolLM2 and any Hugging Face causal LM.

Importing this package registers each built-in model in ``factory.MODELS``.
"""

from creditzoo.models import hub, smollm2, tiny  # noqa: F401  (each registers on import)
