"""The warm start's recipe and the shipped model's context-reading figures (issue 15)."""

import json
import os
from collections import Counter
from dataclasses import asdict

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch

from creditzoo.data.arith import train_problems
from creditzoo.models.tiny import ASSETS_DIR, build_tiny_model
from creditzoo.models.tiny_tokenizer import build_tiny_tokenizer
from creditzoo.models.warmstart import WarmStartConfig, draw_forms, warm_start
from creditzoo.models.warmstart_data import make_batch, prompt_content
from creditzoo.models.warmstart_eval import boxed, mean_logprob


def test_forms_follow_the_mix_and_are_a_function_of_the_step():
    cfg = WarmStartConfig()
    assert draw_forms(cfg, 7, 64) == draw_forms(cfg, 7, 64)
    assert draw_forms(cfg, 7, 64) != draw_forms(cfg, 8, 64)
    counts = Counter(f for step in range(200) for f in draw_forms(cfg, step, 64))
    for form, share in cfg.context_mix:  # 12,800 draws: binomial sd ≤ 0.0044
        assert abs(counts[form] / 12_800 - share) < 0.02, (form, counts)


def test_prompt_forms_use_the_teacher_templates():
    p = train_problems(0, 1, seed=0)[0]
    assert prompt_content(p, "plain") == p.problem
    assert prompt_content(p, "answer") == f"{p.problem} (Reference answer: {p.answer})"
    assert prompt_content(p, "solution") == f"{p.problem} (Reference solution: {p.solution})"


def test_batch_labels_cover_the_target_and_eos_only():
    tok = build_tiny_tokenizer()
    batch = make_batch(tok, ["ab", "abcd"], ["xyz", "x"])
    for row, target in enumerate(["xyz", "x"]):
        labelled = batch["labels"][row][batch["labels"][row] != -100].tolist()
        assert labelled == tok(target + tok.eos_token, add_special_tokens=False)["input_ids"]
    # padding is masked out of attention: row 1 is the longer prompt, shorter target
    assert batch["attention_mask"].sum(1).tolist() == [
        len(make_batch(tok, [c], [t])["input_ids"][0]) for c, t in [("ab", "xyz"), ("abcd", "x")]
    ]


def test_mean_logprob_of_one_row_is_minus_the_lm_loss():
    # HF's loss is the mean NLL over the labelled tokens: for one row exactly -mean log-prob.
    tok = build_tiny_tokenizer()
    model = build_tiny_model(len(tok), seed=0).eval()
    batch = make_batch(tok, ["Compute 2+3."], ["2+3=5. \\boxed{5}"])
    with torch.no_grad():
        loss = model(**batch).loss.item()
    assert mean_logprob(model, tok, ["Compute 2+3."], ["2+3=5. \\boxed{5}"]) == pytest.approx(
        -loss, abs=1e-5
    )


def test_boxed_reads_the_last_integer_box():
    assert boxed("1+2=3. \\boxed{3} \\boxed{-4}") == "-4"
    assert boxed("no box") is None


def test_two_step_warm_start_writes_model_and_report(tmp_path):
    report = warm_start(WarmStartConfig(steps=2, eval_n=4, max_new_tokens=8), tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert json.loads((tmp_path / "warmstart.json").read_text()) == json.loads(json.dumps(report))
    assert set(report["teacher_greedy_acc"]) == {"answer", "solution", "correct_sibling"}
    assert set(report["solution_logprob"]) == {"none", "answer", "solution", "correct_sibling"}


def test_shipped_model_reads_every_context():
    """Issue 15's bars on the committed warm start: the teacher follows each positive context
    (greedy ≥ 0.85), the student leaves RL room (greedy 0.25–0.40), and the shipped weights
    come from today's recipe."""
    report = json.loads((ASSETS_DIR / "warmstart.json").read_text())
    assert report["settings"] == json.loads(json.dumps(asdict(WarmStartConfig())))
    for context, acc in report["teacher_greedy_acc"].items():
        assert acc >= 0.85, (context, acc)
    assert 0.25 <= report["student"]["greedy_acc"] <= 0.40
    lp = report["solution_logprob"]
    assert min(lp["answer"], lp["solution"], lp["correct_sibling"]) > lp["none"]
