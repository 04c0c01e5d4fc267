"""Compose a `fit`/`eval` config and check it completely before anything runs.

Hydra's own errors (a missing config-group option, a key that is not in the config, an override
it cannot parse) become one ``ConfigError`` in plain words; then the composed config is checked
against the schema (``config_schema``) and against the registries (names, the algorithm's
parameters, the engine's and verifier's options, an optional install a model needs). Only a
config that passes reaches the Hydra app, so bad input costs no model load and shows no traceback.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from creditzoo.config_schema import SCHEMAS, describe, matches, parse
from creditzoo.errors import ConfigError

# What a config group selects, in words (for "unknown <kind> 'x'").
KINDS = {
    "algorithm": "algorithm",
    "model": "model",
    "data": "task",
    "rollout": "rollout engine",
    "trainer": "trainer",
    "benchmark": "task",
    "experiment": "experiment",
}


def checked_config(command: str, overrides: list[str]) -> DictConfig:
    """The composed config of ``command`` with ``overrides``, fully checked."""
    cfg = compose(command, overrides)
    check_config(command, cfg)
    return cfg


def compose(command: str, overrides: list[str]) -> DictConfig:
    """Hydra's composition, with its errors turned into ``ConfigError``."""
    from hydra.errors import HydraException

    # ``algorithm.<param>=`` is forced in, so that an unknown parameter is judged by the
    # algorithm (which suggests the close one) instead of by Hydra's struct check.
    overrides = [_force_algorithm_key(o) for o in overrides if not _is_hydra_key(o)]
    try:
        return _compose(command, overrides)
    except HydraException as err:
        raise ConfigError(_explain(err, command, overrides)) from None
    except OmegaConfBaseException as err:
        raise ConfigError(_first_line(err)) from None


def check_config(command: str, cfg: DictConfig) -> None:
    """Schema, then registries: the first problem raises one ``ConfigError``."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        key = missing[0]
        raise ConfigError(f"{key} is required here (set {key}=<value>)")
    try:
        values = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as err:
        raise ConfigError(_first_line(err)) from None
    assert isinstance(values, dict)
    parse(SCHEMAS[command], values)
    if command == "fit":
        check_fit_parts(values)
    else:
        check_eval_parts(values)


def check_fit_parts(values: dict[str, Any]) -> None:
    """Every named part exists and accepts its options; the algorithm builds."""
    from creditzoo.algorithms import build_algorithm, get_algorithm

    _check_model(values["model"])
    task = _check_data(values["data"], values["eval"])
    _check_rollout(values["rollout"])
    params = dict(values["algorithm"])
    name = params.pop("name")
    algorithm = build_algorithm(name, **params)
    need = get_algorithm(name).min_group_size
    if values["group_size"] < need:
        raise ConfigError(
            f"algorithm {name!r} needs group_size ≥ {need}: its credit compares the sibling "
            f"responses of one prompt, and group_size={values['group_size']} gives none. Set "
            f"group_size=8 (the default)."
        )
    _check_teacher(values["teacher"])
    _check_solutions(algorithm, values["teacher"], values["loss"]["kl_coef"], task)
    _check_process_labels(algorithm, task)
    _check_verifier(values["verifier"])


def _check_data(data: dict[str, Any], eval_cfg: dict[str, Any]) -> Any:
    """The training task, its split and the evaluated splits exist (nothing is loaded)."""
    from creditzoo.config_schema import BenchmarkSettings
    from creditzoo.tasks.fit_data import eval_split_names, evaluation_task, training_task

    task = training_task(data)
    benchmark = eval_cfg.get("benchmark")
    if isinstance(benchmark, dict):
        parse(BenchmarkSettings, benchmark, "eval.benchmark.")
    eval_split_names(evaluation_task(task, benchmark), eval_cfg.get("splits"), "eval.splits")
    return task


def _check_solutions(algorithm: Any, teacher: dict[str, Any], kl_coef: float, task: Any) -> None:
    """A teacher shown worked solutions needs a task that has them: say so before loading."""
    from creditzoo.providers.build import required_fields
    from creditzoo.providers.contexts import SOLUTION_CONTEXTS
    from creditzoo.providers.teacher import NEGATIVE_FIELDS, POSITIVE_FIELDS

    spec = algorithm.teacher_spec()
    if spec is None or not required_fields(algorithm, kl_coef) & (
        POSITIVE_FIELDS | NEGATIVE_FIELDS
    ):
        return
    context = teacher.get("context") or spec.context
    if context in SOLUTION_CONTEXTS and not task.has_solutions:
        column = " or data.solution=<column> if the data has them" if task.details else ""
        raise ConfigError(
            f"algorithm {algorithm.name!r} shows its teacher the reference worked solution "
            f"(teacher context {context!r}), but data={task.name} has no worked solutions; set "
            f"teacher.context=answer (the reference answer only){column}"
        )


def _check_process_labels(algorithm: Any, task: Any) -> None:
    """An algorithm that reads process labels needs a task whose steps can be checked."""
    if "process_labels" in algorithm.requires and not task.steps_checkable:
        from creditzoo.tasks import list_tasks

        checkable = [n for n in list_tasks() if _task_checks_steps(n)]
        raise ConfigError(
            f"algorithm {algorithm.name!r} reads process_labels (the first wrong step of each "
            f"response), which data={task.name} cannot provide: its steps cannot be checked. "
            f"Train it on a task that checks steps ({', '.join(checkable)}), or pick another "
            f"algorithm."
        )


def _task_checks_steps(name: str) -> bool:
    from creditzoo.tasks.base import TASKS

    return TASKS.get(name).steps_checkable


def check_eval_parts(values: dict[str, Any]) -> None:
    """The benchmark and its splits exist, the model (or the run's) can load, the verifier too."""
    from creditzoo.eval.run import benchmark_task, run_model_config, split_names

    task = benchmark_task(values["benchmark"])
    split_names(task, values["benchmark"])
    model = values["model"]
    if values.get("ckpt"):
        model = run_model_config(values["ckpt"]) or model
    _check_model(model)
    _check_verifier(values["verifier"])


def _check_model(model: dict[str, Any]) -> None:
    from creditzoo.models.factory import check_model_available

    check_model_available(model["name"], model.get("path"))


def _check_rollout(rollout: dict[str, Any]) -> None:
    from creditzoo.registry import resolve
    from creditzoo.rollout.sampler import ENGINES, check_engine_options

    options = dict(rollout)
    engine = options.pop("engine", None)
    if engine is None:
        raise ConfigError("rollout.engine is required (set rollout=<engine>)")
    check_engine_options(engine, options)
    factory = ENGINES.get(engine)
    target = getattr(factory, "target", None)
    if isinstance(target, str):
        factory = resolve(target)
    try:
        hints = typing.get_type_hints(factory.__init__ if isinstance(factory, type) else factory)
    except Exception:  # annotations that do not resolve here: the engine checks its options
        hints = {}
    for key, value in options.items():
        hint = hints.get(key)
        if hint is not None and not matches(value, hint):
            raise ConfigError(
                f"rollout.{key} expects {describe(hint)}, got {value!r} (set rollout.{key}=<value>)"
            )


def _check_teacher(teacher: dict[str, Any]) -> None:
    from creditzoo.providers.contexts import CONTEXTS, NEGATIVE_CONTEXTS

    if teacher.get("context") is not None:
        CONTEXTS.get(teacher["context"])
    if teacher.get("negative_context") is not None:
        NEGATIVE_CONTEXTS.get(teacher["negative_context"])


def _check_verifier(verifier: dict[str, Any]) -> None:
    from creditzoo.verify.protocol import check_verifier_options

    options = dict(verifier)
    check_verifier_options(options.pop("name", "math"), options)


# ----------------------------------------------------------------------------- Hydra


def _compose(command: str, overrides: list[str]) -> DictConfig:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from creditzoo.config_store import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("creditzoo.configs", version_base="1.3"):
            return hydra_compose(command, overrides=overrides)
    finally:
        GlobalHydra.instance().clear()


def _explain(err: Exception, command: str, overrides: list[str]) -> str:
    from hydra.errors import MissingConfigException, OverrideParseException

    if isinstance(err, MissingConfigException) and err.missing_cfg_file:
        group, _, name = err.missing_cfg_file.rpartition("/")
        return unknown_option(group, name, list(err.options or []))
    if isinstance(err, OverrideParseException):
        bad = next((o for o in overrides if o in str(err)), None)
        return (
            f"cannot read the override {bad or str(err).splitlines()[0]!r}: write key=value "
            f"(quote values with spaces or special characters)"
        )
    full_key = getattr(err.__cause__, "full_key", None)
    if full_key:
        return _unknown_key(str(full_key), command, overrides)
    return _first_line(err)


def unknown_option(group: str, name: str, options: list[str]) -> str:
    """The message for ``group=name`` when the group has no such option."""
    if group == "algorithm":
        from creditzoo.algorithms import ALGORITHMS

        return ALGORITHMS.unknown_message(name)
    if group in ("data", "benchmark"):
        from creditzoo.tasks import TASKS

        return TASKS.unknown_message(name, config_key=group)
    kind = KINDS.get(group, group)
    close = difflib.get_close_matches(name, options, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    plus = "+" if group == "experiment" else ""
    return (
        f"unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(sorted(options))} "
        f"(set {plus}{group}=<name>)."
    )


def _unknown_key(full_key: str, command: str, overrides: list[str]) -> str:
    parent, _, leaf = full_key.rpartition(".")
    rest = [o for o in overrides if _key(o) != full_key]
    try:
        node = _compose(command, rest)
        siblings = list(OmegaConf.select(node, parent) if parent else node)
    except Exception:  # suggestions are a courtesy: the message stands without them
        siblings = []
    prefix = f"{parent}." if parent else ""
    close = difflib.get_close_matches(leaf, siblings, n=1)
    hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
    known = f" Known: {', '.join(prefix + s for s in siblings)}." if siblings else ""
    return f"unknown setting '{full_key}'.{hint}{known}"


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _is_hydra_key(override: str) -> bool:
    return _key(override).startswith(("hydra.", "hydra/")) or override in ("-m", "--multirun")


def _force_algorithm_key(override: str) -> str:
    key = override.split("=", 1)[0]
    return f"++{override}" if key.startswith("algorithm.") else override


def _first_line(err: BaseException) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The override list of every job of a ``-m`` sweep (``seed=0,1`` → two jobs)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    plain = [o for o in overrides if o not in ("-m", "--multirun")]
    try:
        parsed = OverridesParser.create().parse_overrides(plain)
        return BasicSweeper.split_arguments(parsed, None)[0]
    except HydraException as err:
        raise ConfigError(_explain(err, "fit", plain)) from None


__all__ = [
    "check_config",
    "checked_config",
    "compose",
    "sweep_jobs",
    "unknown_option",
]
