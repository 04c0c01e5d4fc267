"""The types and ranges of every `fit` and `eval` setting, checked right after composition.

The YAML files in ``creditzoo/configs`` give the defaults; these dataclasses say what each key
may hold, with ranges declared next to the field exactly as an algorithm declares its parameters
(``creditzoo.algorithms.param``). :func:`check_schema` walks a composed config against them and
raises one ``ConfigError`` naming the key, what it must be and how to set it — before any model
loads. Open sections (``algorithm``, ``rollout``, ``trainer``, the data ``spec``) are typed by
their owner (the algorithm's dataclass, the engine's signature, Lightning) and checked there.

The checked :class:`FitConfig` is what the training loop reads (``RLVRModule.settings``).
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from creditzoo.errors import ConfigError
from creditzoo.params import describe, matches, param, range_violation

# ----------------------------------------------------------------------------- sections


@dataclass
class LoraSettings:
    r: int = param(0, ge=0)  # > 0 trains rank-r adapters
    alpha: float = param(16.0, gt=0)
    dropout: float = param(0.0, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"


@dataclass
class ModelSettings:
    name: str = "tiny"  # a registered model (checked against the registry)
    path: str | None = None
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    lora: LoraSettings = field(default_factory=LoraSettings)


@dataclass
class TaskSource:
    """Where a task's rows come from (null: the task's default); shared by data and benchmark."""

    path: str | None = None  # a hub id or a local .jsonl/.json/.parquet/.csv file
    question: str | None = None  # column names; a.b reads a nested field
    answer: str | None = None
    solution: str | None = None
    split: str | None = None
    config: str | None = None  # the hub dataset's configuration
    answer_format: Literal["boxed", "gsm8k", "plain"] | None = None
    spec: dict[str, Any] = field(default_factory=dict)  # a generated task's own keys (arith)


@dataclass
class DataSettings(TaskSource):
    name: str = "arith"  # a registered task
    prompt_template: str = "{problem}"
    max_new_tokens: int = param(64, ge=1)  # the task's default generation length
    privileged_templates_version: str | None = None
    privileged_templates: dict[str, str] = field(default_factory=dict)
    max_prompt_tokens: int | None = param(None, ge=1)  # longer prompts are skipped
    exclude_eval: bool = False  # drop training problems that are also evaluation problems


@dataclass
class LossSettings:
    agg: Literal["token_mean", "seq_mean", "const_norm"] = "token_mean"
    clip_low: float = param(0.2, ge=0, lt=1)
    clip_high: float = param(0.28, ge=0)
    kl_coef: float = param(0.0, ge=0)
    micro_batch_size: int = param(64, ge=1)  # rows per forward/backward; the loss is the same
    # One PPO epoch: the training forward also gives the behaviour log-probs (one micro-batch).
    single_pass: bool = True
    mini_batches: int = param(1, ge=1)  # optimizer steps per rollout batch, whole groups each


@dataclass
class OptimSettings:
    weight_decay: float = param(0.0, ge=0)
    betas: tuple[float, float] = param(
        (0.9, 0.99), allow=lambda b: all(0 <= x < 1 for x in b), allowed="two numbers in [0, 1)"
    )
    max_grad_norm: float = param(1.0, ge=0)  # 0: no gradient clipping


@dataclass
class FitEvalSettings:
    benchmark: str | dict[str, Any] | None = None  # another task to evaluate on (its options)
    splits: list[str] | None = None  # None → the evaluated task's evaluation splits
    n: int = param(500, ge=1)
    k: int = param(4, ge=1)
    temperature: float = param(1.0, ge=0)
    max_new_tokens: int = param(64, ge=1)
    seed: int = 1234
    curve_n: int | None = param(None, ge=1)  # periodic evaluations: first n problems per split
    curve_k: int | None = param(None, ge=1)  # periodic evaluations: samples per problem


@dataclass
class TeacherSettings:
    context: str | None = None  # a registered privileged context; None → the algorithm's
    negative_context: str | None = None
    weights: Literal["live", "fixed", "snapshot", "ema"] | None = None
    sync_every: int = param(10, ge=1)
    ema_decay: float | None = param(None, ge=0, le=1)  # None → the algorithm's TeacherSpec
    check: Literal["warn", "strict", "off"] = "warn"  # first-batch check of the teacher


@dataclass
class VerifierSettings:
    name: str = "math"  # a registered verifier; other keys are its options
    timeout_s: float = param(2.0, gt=0)
    num_workers: int = param(2, ge=1)


@dataclass
class BenchmarkSettings(TaskSource):
    name: str = "arith"  # a registered task
    splits: list[str] | None = None
    prompt_template: str | None = None


# ----------------------------------------------------------------------------- commands


@dataclass
class FitConfig:
    """`creditzoo fit`."""

    algorithm: dict[str, Any] = field(default_factory=dict)  # checked by build_algorithm
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    rollout: dict[str, Any] = field(default_factory=dict)  # checked against the engine
    trainer: dict[str, Any] = field(default_factory=dict)  # Lightning's Trainer arguments
    seed: int = 0
    max_steps: int = param(300, ge=0)
    prompts_per_step: int = param(8, ge=1)
    group_size: int = param(8, ge=1)
    max_new_tokens: int = param(64, ge=1)
    temperature: float = param(1.0, gt=0)
    lr: float = param(1e-4, gt=0)
    output_dir: str | None = None
    variant: str | None = (
        None  # a named variant's leaderboard row (e.g. rlsd-const); None: algorithm
    )
    eval_every: int = param(100, ge=0)
    checkpoint_every: int = param(50, ge=1)
    log_samples_every: int = param(20, ge=0)
    loss: LossSettings = field(default_factory=LossSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    eval: FitEvalSettings = field(default_factory=FitEvalSettings)
    teacher: TeacherSettings = field(default_factory=TeacherSettings)
    verifier: VerifierSettings = field(default_factory=VerifierSettings)


@dataclass
class EvalConfig:
    """`creditzoo eval`."""

    model: ModelSettings = field(default_factory=ModelSettings)
    benchmark: BenchmarkSettings = field(default_factory=BenchmarkSettings)
    ckpt: str | None = None
    k: int = param(4, ge=1)
    temperature: float = param(1.0, ge=0)
    max_new_tokens: int | None = param(None, ge=1)
    limit: int | None = param(None, ge=1)
    seed: int = 1234
    batch_size: int = param(256, ge=1)
    output_dir: str | None = None
    verifier: VerifierSettings = field(default_factory=VerifierSettings)


SCHEMAS: dict[str, type] = {"fit": FitConfig, "eval": EvalConfig}

# Sections whose keys belong to someone else (typed there); their values pass through here.
_OPEN = {"algorithm", "rollout", "trainer", "spec", "privileged_templates"}


def parse_fit(cfg: Any) -> FitConfig:
    """A checked ``FitConfig`` from a composed config (DictConfig or dict)."""
    return parse(FitConfig, _container(cfg))


def parse(schema: type, values: dict[str, Any], prefix: str = "") -> Any:
    """An instance of ``schema`` from ``values``; the first bad key raises ``ConfigError``."""
    check_schema(schema, values, prefix)
    kwargs = {}
    for f in dataclasses.fields(schema):
        if f.name not in values:
            continue
        sub = _section(typing.get_type_hints(schema)[f.name])
        value = values[f.name]
        if sub is not None and isinstance(value, dict):
            value = parse(sub, value, f"{prefix}{f.name}.")
        kwargs[f.name] = value
    return schema(**kwargs)


def check_schema(schema: type, values: dict[str, Any], prefix: str = "") -> None:
    """Every key of ``values`` is a field of ``schema`` with a value of its type and range."""
    hints = typing.get_type_hints(schema)
    names = [f.name for f in dataclasses.fields(schema)]
    for key, value in values.items():
        full = f"{prefix}{key}"
        if key not in hints:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
            known = ", ".join(f"{prefix}{n}" for n in names)
            raise ConfigError(f"unknown setting '{full}'.{hint} Known: {known}")
        hint = hints[key]
        sub = _section(hint)
        if sub is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"{full} must be a section ({full}.<key>=…), got {value!r}")
            check_schema(sub, value, f"{full}.")
            continue
        if key in _OPEN:
            continue
        f = next(f for f in dataclasses.fields(schema) if f.name == key)
        if not matches(value, hint):
            raise ConfigError(f"{full} expects {describe(hint)}, got {value!r}{_example(full, f)}")
        check_range(full, value, f)


def check_range(key: str, value: Any, f: dataclasses.Field) -> None:
    """The range declared with ``param(...)`` holds, or a ``ConfigError`` states it."""
    described = range_violation(value, f)
    if described is not None:
        raise ConfigError(f"{key} must be {described}, got {value!r}{_example(key, f)}")


def _example(key: str, f: dataclasses.Field) -> str:
    """`` (e.g. lr=0.0001, the default)`` when the field has a plain default."""
    if f.default is dataclasses.MISSING or f.default is None:
        return ""
    value = f.default
    shown = "[" + ",".join(map(str, value)) + "]" if isinstance(value, tuple) else value
    return f" (e.g. {key}={shown}, the default)"


def _section(hint: Any) -> type | None:
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def _container(cfg: Any) -> dict[str, Any]:
    if isinstance(cfg, dict):
        return cfg
    from omegaconf import OmegaConf

    out = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(out, dict)
    return out


__all__ = [
    "SCHEMAS",
    "EvalConfig",
    "FitConfig",
    "check_schema",
    "parse",
    "parse_fit",
]
