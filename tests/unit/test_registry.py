from dataclasses import dataclass

import pytest

from creditzoo import Algorithm, build_algorithm, get_algorithm, list_algorithms, register
from creditzoo.registry import _REGISTRY, algorithm_defaults


def test_builtins_are_listed() -> None:
    assert "grpo" in list_algorithms()
    assert list_algorithms() == sorted(list_algorithms())


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(KeyError) as err:
        get_algorithm("nope")
    message = str(err.value)
    assert "unknown algorithm 'nope'" in message
    for name in list_algorithms():
        assert name in message


def test_close_name_is_suggested() -> None:
    with pytest.raises(KeyError, match="Did you mean 'grpo'"):
        get_algorithm("grp")


def test_build_with_defaults_and_overrides() -> None:
    algo = build_algorithm("grpo", scale_rewards="none")
    assert algo.scale_rewards == "none" and algo.eps == 1e-6
    assert algorithm_defaults("grpo") == {"scale_rewards": "group", "eps": 1e-6}


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(
        TypeError, match=r"no parameter 'scale_reward'.*Did you mean 'scale_rewards'"
    ):
        build_algorithm("grpo", scale_reward="none")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [({"scale_rewards": "grouped"}, "scale_rewards"), ({"eps": "tiny"}, "eps")],
)
def test_mistyped_parameter_is_named(params: dict, fragment: str) -> None:
    with pytest.raises(TypeError, match=fragment):
        build_algorithm("grpo", **params)


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

    assert "_x" not in _REGISTRY and "_y" not in _REGISTRY
