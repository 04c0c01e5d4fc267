"""Tasks: tabular loading from files with odd column names, answer formats, split rules, the
seeded epoch stream (pure in (seed, step), rank slices), hygiene counts, and clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from creditzoo.data.datamodule import StepPrompts
from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError, MissingDataError
from creditzoo.tasks import (
    TASKS,
    Task,
    TaskOptions,
    get_task,
    list_tasks,
    load_split,
    register_task,
)
from creditzoo.tasks.fit_data import evaluation_task, fit_data
from creditzoo.tasks.hygiene import drop_too_long, exclude, normalise, overlap
from creditzoo.tasks.stream import EpochStream
from creditzoo.tasks.tabular import extract_answer, last_boxed

# GSM8K-style rows under odd column names; two rows have no reference answer.
ROWS = [
    {"Frage Text": f"Compute {i}+{i + 1}.", "lsg": f"{i}+{i + 1}={2 * i + 1}.\n#### {2 * i + 1}"}
    for i in range(10)
]
ROWS.insert(3, {"Frage Text": "Compute 1+1.", "lsg": None})
ROWS.insert(7, {"Frage Text": "Compute 2+2.", "lsg": "  "})


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def hf(path: Path, **options: str) -> Task:
    opts = {"question": "Frage Text", "answer": "lsg", "answer_format": "gsm8k", **options}
    return get_task("hf", TaskOptions(path=str(path), **opts))


@pytest.mark.parametrize("writer", [write_jsonl, write_parquet], ids=["jsonl", "parquet"])
def test_a_file_with_odd_columns_is_the_split_train(tmp_path: Path, writer) -> None:
    task = hf(writer(tmp_path / f"d.{'jsonl' if writer is write_jsonl else 'parquet'}", ROWS))
    assert task.splits == task.train_splits == ("train",) and task.train_split() == "train"
    split = load_split(task, "train")
    assert split.skipped_no_answer == 2 and len(split.problems) == 10
    assert [p.answer for p in split.problems[:3]] == ["1", "3", "5"]
    assert split.problems[0].problem == "Compute 0+1." and split.problems[0].solution == ""
    assert len({p.uid for p in split.problems}) == 10
    assert [p.answer for p in load_split(task, "train", limit=4).problems] == ["1", "3", "5", "7"]


def test_csv_nested_columns_and_chat_questions(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text('q,a\n"What is 6*7?",42\n"Twice 5?","10"\n')
    task = get_task("hf", TaskOptions(path=str(csv), question="q", answer="a"))
    assert [(p.problem, p.answer) for p in load_split(task, "train").problems] == [
        ("What is 6*7?", "42"),
        ("Twice 5?", "10"),
    ]
    rows = [
        {
            "prompt": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "1+2?"},
            ],
            "reward_model": {"ground_truth": "3"},
        }
    ]
    opts = TaskOptions(
        path=str(write_jsonl(tmp_path / "dapo.jsonl", rows)),
        question="prompt",
        answer="reward_model.ground_truth",
        answer_format="plain",
    )
    (p,) = load_split(get_task("hf", opts), "train").problems
    assert (p.problem, p.answer) == ("1+2?", "3")


def test_answer_formats() -> None:
    assert extract_answer("so 1,234 apples\n#### 1,234", "gsm8k") == "1234"
    assert extract_answer("Thus $\\boxed{\\frac{1}{2}}$. Or \\boxed{x^{2}}.", "boxed") == "x^{2}"
    assert extract_answer("  7 ", "plain") == "7"
    assert extract_answer("no box here", "boxed") == "no box here"
    assert last_boxed("\\boxed{a{b}c}") == "a{b}c" and last_boxed("\\boxed{open") is None


def test_solution_column_makes_solutions(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    assert not hf(path).has_solutions
    task = hf(path, solution="lsg")
    assert task.has_solutions and load_split(task, "train").problems[0].solution.endswith("#### 1")


def test_missing_file_and_offline_hub_say_what_to_provide(tmp_path: Path) -> None:
    task = hf(tmp_path / "nope.jsonl")
    with pytest.raises(MissingDataError, match=r"no file at .*nope\.jsonl.*'Frage Text'.*'lsg'"):
        load_split(task, "train")
    with pytest.raises(MissingDataError, match=r"data\.path=<file\.jsonl.*'question'.*'answer'"):
        load_split(get_task("gsm8k"), "train")


def test_missing_columns_are_named(tmp_path: Path) -> None:
    task = hf(write_jsonl(tmp_path / "d.jsonl", ROWS), question="question")
    with pytest.raises(ConfigError, match=r"lacks column\(s\) \['question'\].*Frage Text"):
        load_split(task, "train")


def test_split_rules_and_defaults() -> None:
    gsm8k = get_task("gsm8k")
    assert gsm8k.train_split() == "train" and gsm8k.default_eval_splits == ("test",)
    with pytest.raises(ConfigError, match="trains on split"):
        get_task("gsm8k", TaskOptions(split="test")).train_split()
    with pytest.raises(ConfigError, match="for evaluation only"):
        get_task("aime24").train_split()
    hub = get_task("hf", TaskOptions(path="someone/dataset", split="dev"))
    assert "dev" in hub.splits and hub.train_split() == "dev"
    assert hub.default_eval_splits == ("test",)
    with pytest.raises(ConfigError, match=r"needs data\.path"):
        get_task("hf")
    with pytest.raises(ConfigError, match=r"arith is generated"):
        get_task("arith", TaskOptions(path="x.jsonl"))
    with pytest.raises(ConfigError, match=r"bad data\.spec"):
        get_task("arith", TaskOptions(spec={"nope": 1}))


def test_builtin_tasks_are_listed() -> None:
    names = set(list_tasks())
    assert {
        "arith",
        "gsm8k",
        "math",
        "math500",
        "dapo-math-17k",
        "aime24",
        "amc23",
        "champ",
    } <= names
    assert {"hf"} <= names
    arith = TASKS.get("arith")
    assert arith.steps_checkable and arith.has_solutions and arith.stream is not None
    assert not TASKS.get("dapo-math-17k").has_solutions and TASKS.get("gsm8k").has_solutions


def _problems(n: int) -> list[Problem]:
    return [Problem(f"u{i}", f"q{i}", str(i), "") for i in range(n)]


def test_epochs_are_seeded_permutations() -> None:
    stream = EpochStream(_problems(10), seed=3)
    seq = [p.uid for s in range(5) for p in stream.train_batch(s, 4)]  # 20 positions: 2 epochs
    assert sorted(seq[:10]) == sorted(seq[10:]) == sorted(f"u{i}" for i in range(10))
    assert seq[:10] != seq[10:]  # another permutation each epoch
    again = EpochStream(_problems(10), seed=3)
    assert [p.uid for p in again.train_batch(3, 4)] == seq[12:16]  # pure in (seed, step)
    other = EpochStream(_problems(10), seed=4)
    assert [p.uid for p in other.train_batch(0, 10)] != seq[:10]


def test_ranks_and_resume_see_the_prompts_of_one_process() -> None:
    stream = EpochStream(_problems(10), seed=0)
    one = list(StepPrompts(stream, 4, 6, start_step=lambda: 0))
    ranks = [list(StepPrompts(stream, 4, 6, lambda: 0, rank=r, world_size=2)) for r in (0, 1)]
    for step in range(6):  # steps 2 and 5 straddle an epoch boundary
        assert ranks[0][step][1] + ranks[1][step][1] == one[step][1]
        assert len(ranks[0][step][1]) == 2
    fresh = EpochStream(_problems(10), seed=0)  # a new process after a restart
    assert list(StepPrompts(fresh, 4, 6, start_step=lambda: 3)) == one[3:]


def test_hygiene_counts() -> None:
    train = [Problem("a", "What is  2+2?", "4", ""), Problem("b", "Other", "1", "")]
    evals = {"test": [Problem("x", "what is 2+2?", "4", ""), Problem("y", "new", "2", "")]}
    per_split, shared = overlap(train, evals)
    assert per_split == {"test": 1} and shared == {normalise("What is 2+2?")}
    assert [p.uid for p in exclude(train, shared)] == ["b"]
    kept, dropped = drop_too_long(train, lambda p: len(p.problem), 6)
    assert [p.uid for p in kept] == ["b"] and dropped == 1
    assert drop_too_long(train, len, None) == (train, 0)


def test_fit_data_reports_skips_and_overlap(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    data = {"name": "hf", "path": str(path), "question": "Frage Text", "answer": "lsg"}
    data |= {"answer_format": "gsm8k", "max_prompt_tokens": None, "exclude_eval": False}
    eval_cfg = {"benchmark": None, "splits": ["train"], "n": 100}
    report = fit_data(data, eval_cfg, 0, len).report
    assert report["problems"] == 10 and report["skipped_no_answer"] == 2
    assert report["overlap"] == {"train": 10} and report["eval_skipped_no_answer"] == {"train": 2}
    # Another evaluation file sharing 3 problems (case and spacing differ), excluded from training.
    shared = [{"Q": r["Frage Text"].upper() + "  ", "A": "0"} for r in ROWS[:3]]
    bench = {"name": "hf", "path": str(write_jsonl(tmp_path / "e.jsonl", shared))}
    bench |= {"question": "Q", "answer": "A"}
    eval_cfg = {"benchmark": bench, "splits": None, "n": 100}
    chars = lambda p: len(p.problem)  # noqa: E731  (the prompt's "tokens": its characters)
    out = fit_data({**data, "exclude_eval": True, "max_prompt_tokens": 12}, eval_cfg, 0, chars)
    r = out.report
    assert r["eval_task"] == "hf" and r["overlap"] == {"train": 3} and r["excluded"] == 3
    # "Compute 9+10." is the one prompt over 12 characters; 10 − 1 − 3 problems remain.
    assert r["skipped_too_long"] == 1 and r["problems"] == 6
    trained = out.stream.train_batch(0, 12)  # two epochs of the 6 kept problems
    assert len({p.uid for p in trained}) == 6
    assert not {normalise(p.problem) for p in trained} & {normalise(s["Q"]) for s in shared}


def test_eval_benchmark_by_name_or_section(tmp_path: Path) -> None:
    train = get_task("arith")
    assert evaluation_task(train, None) is train
    assert evaluation_task(train, "gsm8k").name == "gsm8k"
    section = {"name": "hf", "path": str(tmp_path / "x.jsonl"), "question": "q", "answer": "a"}
    task = evaluation_task(train, section)
    assert task.options.key == "eval.benchmark" and task.details.question == "q"


def test_a_registered_task_trains_through_fit_data(tmp_path: Path) -> None:
    task = Task(
        "_tmp_task",
        "a throw-away task",
        ("train", "test"),
        lambda task, split, limit: [
            Problem(f"{split}{i}", f"{split} {i}", str(i), "") for i in range(5)
        ],
        train_splits=("train",),
    )
    register_task(task)
    try:
        eval_cfg = {"benchmark": None, "splits": None, "n": 3}
        out = fit_data({"name": "_tmp_task"}, eval_cfg, 0, len)
        assert list(out.eval_splits) == ["test"] and len(out.eval_splits["test"]) == 3
        assert out.report["overlap"] == {"test": 0} and out.report["problems"] == 5
    finally:
        TASKS.unregister("_tmp_task")


def test_a_taken_task_name_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"'gsm8k' is already registered by creditzoo\.tasks"):
        register_task(Task("gsm8k", "an impostor", ("test",), lambda task, split, limit: []))
    assert register_task(TASKS.get("gsm8k")) is TASKS.get("gsm8k")  # the same task: no-op
