"""Does the warm-started model read each privileged context? The figures in ``warmstart.json``.

On held-out training problems (the RL stream's first ``n``, which the warm start never sees):

- ``student``: greedy and sampled (T=1, 4 per problem) accuracy on the plain prompt, and greedy
  accuracy on the ``id`` test split that the leaderboard evaluates;
- ``teacher_greedy_acc[context]``: greedy accuracy under each positive context (``answer``,
  ``solution``, and ``correct_sibling`` = the solution template holding one of the student's own
  correct samples, on the problems that have one);
- ``follows_wrong[context]``: under a negative context built from one of the student's wrong
  samples (``wrong_answer``: its answer in the answer template; ``wrong_sibling``: the whole
  response in the sibling template), the share of greedy outputs that box that wrong answer: a
  teacher that reads the context follows it;
- ``solution_logprob[context]``: mean log-prob per token of the reference solution (+ eos), per
  problem then averaged, with no context (``none``) and under each positive context.

Answers are the last ``\\boxed{int}`` (a report, not the library's verifier).
"""

from __future__ import annotations

import re

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from creditzoo.data.arith import test_split, train_problems
from creditzoo.data.problem import Problem
from creditzoo.models.warmstart_data import make_batch, prompt_content, render_prompt
from creditzoo.providers.contexts import DEFAULT_TEMPLATES, fill

_BOXED = re.compile(r"\\boxed\{(-?\d+)\}")
SAMPLES_PER_PROBLEM = 4


def boxed(text: str) -> str | None:
    found = _BOXED.findall(text)
    return found[-1] if found else None


@torch.no_grad()
def generate(
    model: LlamaForCausalLM,
    tok: PreTrainedTokenizerFast,
    contents: list[str],
    max_new_tokens: int,
    samples: int = 0,
) -> list[str]:
    """Greedy completions (``samples=0``) or ``samples`` T=1 samples per content, in order."""
    enc = tok(
        [render_prompt(tok, c) for c in contents],
        add_special_tokens=False,
        padding=True,
        padding_side="left",
        return_tensors="pt",
    )
    sampling = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "num_return_sequences": samples}
    kwargs = {"do_sample": True, **sampling} if samples else {"do_sample": False}
    out = model.generate(**enc, max_new_tokens=max_new_tokens, **kwargs)
    return tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)


@torch.no_grad()
def mean_logprob(
    model: LlamaForCausalLM, tok: PreTrainedTokenizerFast, contents: list[str], targets: list[str]
) -> float:
    """Mean over rows of the per-token mean log-prob of ``targets[i]`` (+ eos) after
    ``contents[i]``."""
    batch = make_batch(tok, contents, targets)
    labels = batch.pop("labels")[:, 1:]
    logp = model(**batch).logits[:, :-1].float().log_softmax(-1)
    mask = labels != -100
    token = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
    return (token.sum(1) / mask.sum(1)).mean().item()


def _accuracy(texts: list[str], answers: list[str]) -> float:
    return sum(boxed(t) == a for t, a in zip(texts, answers, strict=True)) / max(len(texts), 1)


def context_report(
    model: LlamaForCausalLM, tok: PreTrainedTokenizerFast, n: int, seed: int, max_new_tokens: int
) -> dict:
    """The context-reading figures above for ``model`` (left in eval mode)."""
    model.eval()
    problems = train_problems(0, n, seed)
    answers = [p.answer for p in problems]
    plain = [p.problem for p in problems]
    torch.manual_seed(seed)
    sampled = generate(model, tok, plain, max_new_tokens, SAMPLES_PER_PROBLEM)
    per_problem = [
        sampled[i * SAMPLES_PER_PROBLEM : (i + 1) * SAMPLES_PER_PROBLEM] for i in range(n)
    ]
    first_right = [
        next((t for t in s if boxed(t) == p.answer), None)
        for p, s in zip(problems, per_problem, strict=True)
    ]
    right = [(p, t) for p, t in zip(problems, first_right, strict=True) if t is not None]
    wrong = [
        (p, t, boxed(t))
        for p, s in zip(problems, per_problem, strict=True)
        for t in s[:1]
        if boxed(t) not in (None, p.answer)
    ]
    sibling = DEFAULT_TEMPLATES["correct_sibling"]

    def greedy_acc(contents: list[str], gold: list[str]) -> float | None:
        if not contents:  # no problem had such a sample
            return None
        return round(_accuracy(generate(model, tok, contents, max_new_tokens), gold), 4)

    def solution_lp(contents: list[str], rows: list[Problem]) -> float | None:
        if not contents:
            return None
        return round(mean_logprob(model, tok, contents, [p.solution for p in rows]), 4)

    test = test_split("id", n)
    return {
        "heldout": f"train_problems(step=0, n={n}, seed={seed}): the RL stream's first problems",
        "student": {
            "greedy_acc": greedy_acc(plain, answers),
            "sampled_acc": round(
                _accuracy(sampled, [a for a in answers for _ in per_problem[0]]), 4
            ),
            "id_test_greedy_acc": greedy_acc([p.problem for p in test], [p.answer for p in test]),
        },
        "teacher_greedy_acc": {
            "answer": greedy_acc([prompt_content(p, "answer") for p in problems], answers),
            "solution": greedy_acc([prompt_content(p, "solution") for p in problems], answers),
            "correct_sibling": greedy_acc(
                [fill(sibling, p, response=t) for p, t in right], [p.answer for p, _ in right]
            ),
        },
        "correct_sibling_n": len(right),
        "follows_wrong": {
            "wrong_answer": greedy_acc(
                [fill(DEFAULT_TEMPLATES["answer"], p, answer=a) for p, _, a in wrong],
                [a for *_, a in wrong],
            ),
            "wrong_sibling": greedy_acc(
                [fill(sibling, p, response=t) for p, t, _ in wrong], [a for *_, a in wrong]
            ),
        },
        "wrong_n": len(wrong),
        "solution_logprob": {
            "none": solution_lp(plain, problems),
            "answer": solution_lp([prompt_content(p, "answer") for p in problems], problems),
            "solution": solution_lp([prompt_content(p, "solution") for p in problems], problems),
            "correct_sibling": solution_lp(
                [fill(sibling, p, response=t) for p, t in right], [p for p, _ in right]
            ),
        },
    }
