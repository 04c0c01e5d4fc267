"""Benchmark registry: every benchmark is a list of ``Problem``s, loaded the same way.

``arith`` (splits ``id`` and ``ood``) is built in; ``champ`` ships inside the PyPI package
``champ-dataset`` (270 competition problems, offline); ``gsm8k``, ``math500``, ``aime24`` and
``amc23`` come from the Hugging Face hub or from a local JSONL/parquet file with the same columns
(``benchmark.path=…``). Offline without a local file, loading fails with one message naming the
file to provide. ``arith`` is the training task's held-out splits (``data.sources.ArithSource``),
defined once for both uses.
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

from creditzoo.data.problem import Problem
from creditzoo.data.sources import ArithSource, ProblemSource
from creditzoo.errors import ConfigError, MissingDataError
from creditzoo.registry import Registry

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
    """One benchmark: its splits, default prompt and length, and how to load a split.

    ``load(bench, split, path, limit)`` returns the split's problems in a fixed order; ``path``
    is ``benchmark.path`` (a local file instead of the default source); ``limit`` (or None) lets
    a generated benchmark make only as many problems as asked."""

    name: str
    splits: tuple[str, ...]
    prompt_template: str
    max_new_tokens: int
    description: str
    load: Callable[[Benchmark, str, str | None, int | None], list[Problem]]
    hub: HubSpec | None = None
    extra: dict = field(default_factory=dict)


# Named templates, usable as benchmark.prompt_template=<name> (a literal template works too).
TEMPLATES = {"bare": "{problem}", "instruction": INSTRUCTION}


def resolve_template(template: str) -> str:
    return TEMPLATES.get(template, template)


def _gsm8k_answer(text: str) -> str:
    """GSM8K answers end in ``#### 18``; the number after it is the reference."""
    return text.split("####")[-1].strip().replace(",", "")


BENCHMARKS: Registry[Benchmark] = Registry("benchmark", config_key="benchmark")


def register_benchmark(bench: Benchmark) -> Benchmark:
    return BENCHMARKS.register(bench.name, bench)


def source_benchmark(
    source: type[ProblemSource],
    *,
    n: int,
    prompt_template: str,
    max_new_tokens: int,
    description: str,
) -> Benchmark:
    """A training task's held-out splits as a benchmark: the task is defined once (its
    ``test_split``), and ``n`` problems per split are scored unless ``limit`` is smaller."""

    def load(bench: Benchmark, split: str, path: str | None, limit: int | None) -> list[Problem]:
        return source().test_split(split, limit or n)

    return Benchmark(
        source.name, tuple(source.splits), prompt_template, max_new_tokens, description, load
    )


def _load_champ(bench: Benchmark, split: str, path: str | None, limit: int | None) -> list[Problem]:
    return _champ(path)


register_benchmark(
    source_benchmark(
        ArithSource,
        n=500,
        prompt_template="{problem}",
        max_new_tokens=64,
        description="built-in arithmetic, 1–4 operators (id) and 5 operators (ood)",
    )
)
register_benchmark(
    Benchmark(
        "champ",
        ("test",),
        INSTRUCTION,
        1024,
        "CHAMP: 270 competition problems (PyPI champ-dataset, offline)",
        _load_champ,
    )
)


def _hub_benchmark(name: str, max_new_tokens: int, description: str, hub: HubSpec) -> Benchmark:
    return Benchmark(name, ("test",), INSTRUCTION, max_new_tokens, description, _load_tabular, hub)


def _load_tabular(
    bench: Benchmark, split: str, path: str | None, limit: int | None
) -> list[Problem]:
    return _tabular(bench, path)


for _bench in (
    _hub_benchmark(
        "gsm8k",
        512,
        "GSM8K test (1319)",
        HubSpec(
            "openai/gsm8k", "test", "question", "answer", config="main", answer_parser=_gsm8k_answer
        ),
    ),
    _hub_benchmark(
        "math500",
        1024,
        "MATH-500",
        HubSpec("HuggingFaceH4/MATH-500", "test", "problem", "answer", solution="solution"),
    ),
    _hub_benchmark(
        "aime24",
        2048,
        "AIME 2024 (30)",
        HubSpec("HuggingFaceH4/aime_2024", "train", "problem", "answer", solution="solution"),
    ),
    _hub_benchmark(
        "amc23", 2048, "AMC 2023 (40)", HubSpec("math-ai/amc23", "test", "question", "answer")
    ),
):
    register_benchmark(_bench)


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered as ``name``; an unknown name lists the known ones."""
    return BENCHMARKS.get(name)


def check_splits(bench: Benchmark, splits: list[str] | tuple[str, ...]) -> None:
    """Every requested split exists, or one ``ConfigError`` lists the benchmark's splits."""
    bad = [s for s in splits if s not in bench.splits]
    if bad:
        raise ConfigError(
            f"benchmark {bench.name!r} has split(s) {', '.join(bench.splits)}, not "
            f"{', '.join(map(repr, bad))} (set benchmark.splits=[{', '.join(bench.splits)}])"
        )


def load_problems(
    name: str, split: str, *, path: str | None = None, limit: int | None = None
) -> list[Problem]:
    """The problems of one benchmark split, in a fixed order (first ``limit`` when given)."""
    bench = get_benchmark(name)
    check_splits(bench, [split])
    problems = bench.load(bench, split, path, limit)
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
            raise MissingDataError(
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
                raise MissingDataError(f"benchmark {bench.name}: no file at {path}")
            kind = "parquet" if str(path).endswith(".parquet") else "json"
            ds = datasets.load_dataset(kind, data_files=str(path), split="train")
        else:
            ds = datasets.load_dataset(hub.repo, hub.config, split=hub.split)
    except (ConnectionError, OSError, ValueError) as err:
        if path:
            raise
        raise MissingDataError(
            f"benchmark {bench.name} could not be loaded from the hub ({hub.repo}, split "
            f"{hub.split}): {type(err).__name__}. Offline, download it elsewhere and pass "
            f"benchmark.path=<file.jsonl or .parquet> with columns {hub.question!r} and "
            f"{hub.answer!r}."
        ) from None
    missing = [c for c in (hub.question, hub.answer) if c not in ds.column_names]
    if missing:
        raise ConfigError(
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
