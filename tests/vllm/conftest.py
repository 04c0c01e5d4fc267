"""vLLM tests (marker ``vllm``) run in ``.venv-vllm`` through ``make test-vllm``; each module
starts a real engine. They fail, not skip, without vLLM, so a broken install cannot pass."""

import importlib.util
import os

import pytest

# A small CPU KV cache: the tiny model needs a few MB, and the machine is shared.
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


@pytest.fixture(autouse=True)
def _needs_vllm() -> None:
    spec = importlib.util.find_spec("vllm")
    if spec is None or spec.origin is None:  # tests/vllm itself is a namespace package "vllm"
        pytest.fail("vLLM is not installed in this environment: run `make test-vllm`")
