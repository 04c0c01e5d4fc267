"""Every registered algorithm (built-in or installed plugin) passes every contract check."""

import pytest

from creditzoo import list_algorithms
from creditzoo.testing import CHECKS


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("name", list_algorithms())
def test_contract(name: str, check: str) -> None:
    CHECKS[check](name)


def test_contract_rejects_padding_leak() -> None:
    from dataclasses import dataclass

    import torch

    from creditzoo import Algorithm, Credit, register
    from creditzoo.algorithms import ALGORITHMS
    from creditzoo.testing import check_shape_and_mask

    @register("_leaky_test_algo")
    @dataclass
    class Leaky(Algorithm):
        def compute(self, batch):
            return Credit(advantages=torch.ones(batch.response_mask.shape))

    try:
        with pytest.raises(AssertionError, match="outside the mask"):
            check_shape_and_mask("_leaky_test_algo")
    finally:
        ALGORITHMS.unregister("_leaky_test_algo")
