"""Benchmark registry: every benchmark is a list of ``Problem``s, loaded the same way.

``arith`` (splits ``id`` and ``ood``) is built in; ``champ`` ships inside the PyPI package
``champ-dataset`` (270 competition problems, offline); ``gsm8k``, ``math500``, ``aime24`` and
``amc23`` come from the Hugging Face hub or from a local JSONL/parquet file with the same columns
(``benchmark.path=…``). Offline without a local file, loading fails with one message naming the
file to provide.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from creditzoo.data import arith
from creditzoo.data.problem import Problem

log = logging.getLogger("creditzoo")

INSTRUCTION = (
    "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}."
)


@dataclass(frozen=True)
class HubSpec:
    """Where a hub benchmark lives and which columns hold the question and the answer."""

    repo: str
    split: str
    question: str
    answer: str
    config: str | None = None
    solution: str | None = None
    answer_parser: Callable[[str], str] = str


@dataclass(frozen=True)
class Benchmark:
    name: str
    splits: tuple[str, ...]
    prompt_template: str
    max_new_tokens: int
    description: str
    hub: HubSpec | None = None
    extra: dict = field(default_factory=dict)


# Named templates, usable as benchmark.prompt_template=<name> (a literal template works too).
TEMPLATES = {"bare": "{problem}", "instruction": INSTRUCTION}


def resolve_template(template: str) -> str:
    return TEMPLATES.get(template, template)


def _gsm8k_answer(text: str) -> str:
    """GSM8K answers end in ``#### 18``; the number after it is the reference."""
    return text.split("####")[-1].strip().replace(",", "")


BENCHMARKS: dict[str, Benchmark] = {
    "arith": Benchmark(
        "arith",
        ("id", "ood"),
        "{problem}",
        64,
        "built-in arithmetic, 1–4 operators (id) and 5 operators (ood)",
    ),
    "champ": Benchmark(
        "champ",
        ("test",),
        INSTRUCTION,
        1024,
        "CHAMP: 270 competition problems (PyPI champ-dataset, offline)",
    ),
    "gsm8k": Benchmark(
        "gsm8k",
        ("test",),
        INSTRUCTION,
        512,
        "GSM8K test (1319)",
        HubSpec(
            "openai/gsm8k", "test", "question", "answer", config="main", answer_parser=_gsm8k_answer
        ),
    ),
    "math500": Benchmark(
        "math500",
        ("test",),
        INSTRUCTION,
        1024,
        "MATH-500",
        HubSpec("HuggingFaceH4/MATH-500", "test", "problem", "answer", solution="solution"),
    ),
    "aime24": Benchmark(
        "aime24",
        ("test",),
        INSTRUCTION,
        2048,
        "AIME 2024 (30)",
        HubSpec("HuggingFaceH4/aime_2024", "train", "problem", "answer", solution="solution"),
    ),
    "amc23": Benchmark(
        "amc23",
        ("test",),
        INSTRUCTION,
        2048,
        "AMC 2023 (40)",
        HubSpec("math-ai/amc23", "test", "question", "answer"),
    ),
}


def get_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}")
    return BENCHMARKS[name]


def load_problems(
    name: str, split: str, *, path: str | None = None, limit: int | None = None
) -> list[Problem]:
    """The problems of one benchmark split, in a fixed order (first ``limit`` when given)."""
    bench = get_benchmark(name)
    if split not in bench.splits:
        raise ValueError(f"benchmark {name!r} has splits {bench.splits}, not {split!r}")
    if name == "arith":
        problems = arith.test_split(split, limit or 500)
    elif name == "champ":
        problems = _champ(path)
    else:
        problems = _tabular(bench, path)
    return problems[:limit] if limit else problems


def data_hash(problems: list[Problem]) -> str:
    """sha256 over (uid, problem, answer): two results with the same hash saw the same data."""
    h = hashlib.sha256()
    for p in problems:
        h.update(json.dumps([p.uid, p.problem, p.answer]).encode())
    return h.hexdigest()


def _champ(path: str | None) -> list[Problem]:
    if path is None:
        spec = importlib.util.find_spec("champ_dataset")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(
                "benchmark champ needs the PyPI package champ-dataset (pip install champ-dataset) "
                "or benchmark.path=<its dataset_files/v0.json>"
            )
        path = os.path.join(spec.submodule_search_locations[0], "dataset_files", "v0.json")
    with open(path) as fh:
        records = json.load(fh)["problems"]
    out = []
    for key in sorted(records, key=_natural):
        r = records[key]
        out.append(
            Problem(
                uid=f"champ-{key}",
                problem=r["_text"],
                answer=r["_answer"],
                solution=str(r.get("solution", "")),
            )
        )
    return out


def _natural(key: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def _tabular(bench: Benchmark, path: str | None) -> list[Problem]:
    hub = bench.hub
    assert hub is not None
    import datasets

    try:
        if path:
            if not Path(path).exists():
                raise FileNotFoundError(f"benchmark {bench.name}: no file at {path}")
            kind = "parquet" if str(path).endswith(".parquet") else "json"
            ds = datasets.load_dataset(kind, data_files=str(path), split="train")
        else:
            ds = datasets.load_dataset(hub.repo, hub.config, split=hub.split)
    except (ConnectionError, OSError, ValueError) as err:
        if path:
            raise
        raise FileNotFoundError(
            f"benchmark {bench.name} could not be loaded from the hub ({hub.repo}, split "
            f"{hub.split}): {type(err).__name__}. Offline, download it elsewhere and pass "
            f"benchmark.path=<file.jsonl or .parquet> with columns {hub.question!r} and "
            f"{hub.answer!r}."
        ) from None
    missing = [c for c in (hub.question, hub.answer) if c not in ds.column_names]
    if missing:
        raise ValueError(
            f"benchmark {bench.name}: {path or hub.repo} lacks column(s) {missing}; it has "
            f"{ds.column_names}. Provide {hub.question!r} (question) and {hub.answer!r} (answer)."
        )
    out, skipped = [], 0
    for i, row in enumerate(ds):
        if row[hub.answer] is None or not str(row[hub.answer]).strip():
            skipped += 1  # nothing to verify against: counted, never scored as wrong
            continue
        answer = hub.answer_parser(str(row[hub.answer]))
        solution = str(row.get(hub.solution, "")) if hub.solution else ""
        out.append(Problem(f"{bench.name}-{i:05d}", str(row[hub.question]), answer, solution))
    if skipped:
        log.warning(
            "benchmark %s: skipped %d row(s) without a reference answer", bench.name, skipped
        )
    return out
