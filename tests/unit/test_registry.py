"""The algorithm registry and the generic ``Registry`` every pluggable part uses."""

from dataclasses import dataclass

import pytest

from creditzoo import Algorithm, build_algorithm, get_algorithm, list_algorithms, param, register
from creditzoo.algorithms import ALGORITHMS, algorithm_defaults
from creditzoo.errors import ConfigError, UnknownNameError
from creditzoo.registry import Registry, lazy


def test_builtins_are_listed() -> None:
    assert "grpo" in list_algorithms()
    assert {"opsd", "opsd-sampled"} <= set(list_algorithms())
    assert list_algorithms() == sorted(list_algorithms())


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(KeyError) as err:
        get_algorithm("nope")
    message = str(err.value)
    assert "unknown algorithm 'nope'" in message
    for name in list_algorithms():
        assert name in message


def test_close_name_is_suggested() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'grpo'"):
        get_algorithm("grp")


def test_build_with_defaults_and_overrides() -> None:
    algo = build_algorithm("grpo", scale_rewards="none")
    assert algo.scale_rewards == "none" and algo.eps == 1e-6
    assert algorithm_defaults("grpo") == {"scale_rewards": "group", "eps": 1e-6}


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(
        ConfigError, match=r"no parameter 'scale_reward'.*Did you mean 'scale_rewards'"
    ):
        build_algorithm("grpo", scale_reward="none")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [({"scale_rewards": "grouped"}, "scale_rewards"), ({"eps": "tiny"}, "eps")],
)
def test_mistyped_parameter_is_named(params: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        build_algorithm("grpo", **params)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("rlsd", {"epsilon_w": 5.0}, "rlsd': epsilon_w must be ≥ 0 and < 1, got 5.0"),
        ("rlsd", {"lambda_init": -0.1}, "lambda_init must be ≥ 0 and ≤ 1"),
        ("egrsd", {"vocab_size": 1}, "vocab_size must be ≥ 0 and 0 or ≥ 2, got 1"),
        ("rlcsd", {"tau": 0.0}, "tau must be > 0"),
        ("rlcsd", {"clip_low": 3.0}, "clip_low 3.0 must be ≤ clip_high 2.0"),
        ("opsd", {"top_k": 0}, "top_k must be ≥ 1"),
        ("rlsd", {"epsilon_w": float("nan")}, "epsilon_w must be"),
    ],
)
def test_declared_ranges_are_checked_when_built(name: str, params: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_algorithm(name, **params)


def test_ranges_also_hold_for_direct_construction() -> None:
    with pytest.raises(ConfigError, match="epsilon_w"):
        get_algorithm("rlsd")(epsilon_w=2.0)


def test_none_passes_a_range() -> None:
    assert build_algorithm("opsd", token_clip=None).token_clip is None


def test_register_rejects_a_taken_name() -> None:
    taken = r"already registered by creditzoo\.algorithms\.grpo\.GRPO"
    with pytest.raises(ValueError, match=taken):

        @register("grpo")
        @dataclass
        class Impostor(Algorithm):
            pass


def test_register_rejects_non_algorithms_and_non_dataclasses() -> None:
    with pytest.raises(TypeError, match="subclass"):
        register("_x")(object)
    with pytest.raises(TypeError, match="@dataclass"):

        @register("_y")
        class NotADataclass(Algorithm):
            pass

    assert "_x" not in ALGORITHMS and "_y" not in ALGORITHMS


def test_requires_is_checked_at_registration() -> None:
    with pytest.raises(TypeError, match=r"unknown RolloutBatch field\(s\) \['teacher_logprob'\]"):

        @register("_typo")
        @dataclass
        class Typo(Algorithm):
            requires = frozenset({"teacher_logprob"})

    with pytest.raises(TypeError, match="declares no `teacher = TeacherSpec"):

        @register("_no_teacher")
        @dataclass
        class NoTeacher(Algorithm):
            requires = frozenset({"teacher_logprobs"})

    assert "_typo" not in ALGORITHMS and "_no_teacher" not in ALGORITHMS


def test_namespaced_extras_may_be_required() -> None:
    @register("_extra_reader")
    @dataclass
    class ExtraReader(Algorithm):
        requires = frozenset({"mypkg/score"})
        bound: float = param(1.0, gt=0)

    try:
        assert get_algorithm("_extra_reader").requires == {"mypkg/score"}
    finally:
        ALGORITHMS.unregister("_extra_reader")


def test_capabilities_are_class_level() -> None:
    """``creditzoo list`` and the loop read them without building anything."""
    opsd, sampled = get_algorithm("opsd"), get_algorithm("opsd-sampled")
    assert opsd.components == {"distill"} and sampled.components == frozenset()
    assert opsd.requires == {"teacher_topk_ids", "teacher_topk_logprobs"}
    assert sampled.requires == {"teacher_logprobs"}
    assert get_algorithm("cepo").teacher.negatives == 1
    assert build_algorithm("rlcsd", num_negatives=2).teacher_spec().negatives == 2
    assert build_algorithm("opsd", top_k=7).teacher_spec().top_k == 7


def test_generic_registry_idiom() -> None:
    things: Registry[int] = Registry("widget", config_key="widget")
    things.register("alpha", 1)

    @things.register("beta")
    def beta() -> int:
        return 2

    assert things.names() == ["alpha", "beta"] and list(things) == ["alpha", "beta"]
    assert things.get("beta") is beta and "alpha" in things and len(things) == 2
    with pytest.raises(UnknownNameError) as err:
        things.get("alpah")
    assert str(err.value) == (
        "unknown widget 'alpah'. Did you mean 'alpha'? Known widgets: alpha, beta "
        "(set widget=<name>)."
    )


def test_lazy_factory_imports_on_first_call() -> None:
    factory = lazy("collections:OrderedDict")
    assert factory(a=1) == {"a": 1}
