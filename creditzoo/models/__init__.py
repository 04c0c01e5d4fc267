"""Policy models: the embedded tiny model and any Hugging Face causal LM."""
