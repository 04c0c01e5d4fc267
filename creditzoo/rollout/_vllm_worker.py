"""Code that runs inside vLLM's worker process (``LLM(worker_extension_cls=...)``).

vLLM mixes this class into its worker, so the trainer can call its methods by name through
``llm.collective_rpc("creditzoo_load_weights", args=(blob,))``. Calling by name keeps
vLLM's safe (msgpack) serialisation: passing a function instead would need
``VLLM_ALLOW_INSECURE_SERIALIZATION=1``. Weights travel as one safetensors blob (bytes), because
tensors in RPC arguments arrive in the worker as Python lists.

Kept free of creditzoo imports: the worker imports this module by its dotted path at start-up.
"""

from __future__ import annotations


class WeightSyncExtension:
    """Worker mix-in: replace the engine's weights with a full state dict."""

    def creditzoo_load_weights(self, blob: bytes) -> int:
        """Load every tensor of ``blob`` (a ``safetensors.torch.save`` payload); returns the count.

        ``reload_weights`` goes through the model's own HF-name loader. Calling
        ``model.load_weights`` directly on a started engine fails on CPU ("'Parameter' object has
        no attribute 'weight_loader'", research/environment.md §5).
        """
        from safetensors.torch import load

        weights = load(blob)
        self.reload_weights(weights_iterator=iter(weights.items()))  # type: ignore[attr-defined]
        return len(weights)
