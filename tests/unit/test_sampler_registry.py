"""The engine registry builds engines by name and names bad ``rollout.*`` keys clearly.

These run without vLLM: option checking reads the engine's signature before the engine starts.
"""

import importlib.util

import pytest
import torch

from creditzoo.errors import UnknownNameError
from creditzoo.rollout.sampler import build_sampler, sampler_metrics


class _Stub(torch.nn.Module):
    pass


def test_unknown_engine_lists_known() -> None:
    with pytest.raises(
        UnknownNameError,
        match=r"unknown rollout engine 'nope'\. Known rollout engines: hf, static, vllm "
        r"\(set rollout=<name>\)",
    ):
        build_sampler("nope", _Stub(), None)


def test_close_engine_name_is_suggested() -> None:
    with pytest.raises(UnknownNameError, match=r"Did you mean 'static'\?"):
        build_sampler("statik", _Stub(), None)


@pytest.mark.parametrize("engine", ["hf", "static", "vllm"])
def test_unknown_option_is_named_with_the_known_ones(engine: str) -> None:
    with pytest.raises(ValueError, match=rf"engine '{engine}': rollout\.batch_sise; known: "):
        build_sampler(engine, _Stub(), None, batch_sise=4)


def test_vllm_unknown_option_lists_its_options() -> None:
    with pytest.raises(ValueError, match=r"rollout\.kv_cache.*known: .*cpu_kv_cache_gib"):
        build_sampler("vllm", _Stub(), None, kv_cache=2)


def _vllm_installed() -> bool:
    # tests/vllm/ (no __init__.py) is importable as an empty namespace package named vllm when
    # pytest puts tests/ on sys.path; only a real package has an origin.
    spec = importlib.util.find_spec("vllm")
    return spec is not None and spec.origin is not None


@pytest.mark.skipif(_vllm_installed(), reason="vLLM is installed")
def test_vllm_missing_says_how_to_install() -> None:
    from creditzoo.models.factory import build_model

    model, tokenizer = build_model("tiny")
    with pytest.raises(ImportError, match="make setup-vllm"):
        build_sampler("vllm", model, tokenizer)


def test_sampler_metrics_is_optional() -> None:
    class WithMetrics:
        def metrics(self) -> dict[str, float]:
            return {"sync_seconds": 1}

    assert sampler_metrics(object()) == {}
    assert sampler_metrics(WithMetrics()) == {"sync_seconds": 1.0}
