"""The trusted re-evaluations (grader/criteria.py) agree with the reference's own functions, pair by pair."""
import numpy as np
import pytest

import reference
from grader.criteria import binary_adder_accuracy, binary_adder_sums


def _weights(kind):
    if kind == "trained":
        return reference.train_binary_adder(seed=0)
    if kind == "tiny":
        return reference.train_binary_adder(iterations=20, seed=1)
    rng = np.random.default_rng(7)  # random, larger than trained ones: many sums come out wrong
    return {"W_xh": rng.normal(size=(2, 9)) * 1.5, "W_hh": rng.normal(size=(9, 9)) * 1.5, "W_hy": rng.normal(size=(9, 1)) * 1.5}


@pytest.mark.parametrize("kind", ["trained", "tiny", "random"])
def test_the_vectorised_adder_adds_every_pair_as_add_binary_does(kind):
    weights = _weights(kind)
    sums = binary_adder_sums(weights)
    assert sums.shape == (128, 128)
    one_by_one = np.array([[reference.add_binary(weights, a, b) for b in range(128)] for a in range(128)])
    assert np.array_equal(sums, one_by_one)
    a, b = np.meshgrid(np.arange(128), np.arange(128), indexing="ij")
    assert binary_adder_accuracy(weights) == np.mean(one_by_one == a + b)
    if kind == "trained":
        assert binary_adder_accuracy(weights) > 0.99
    else:  # the comparison is not only over right answers
        assert binary_adder_accuracy(weights) < 0.5
