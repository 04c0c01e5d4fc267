"""Policy models: the embedded tiny model, offline SmolLM2 and any Hugging Face causal LM.

Importing this package registers each built-in model in ``factory.MODELS``.
"""

# Each registers itself on import (written as plain imports: the package never imports itself).
import creditzoo.models.hub
import creditzoo.models.smollm2
import creditzoo.models.tiny  # noqa: F401
