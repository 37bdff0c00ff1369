"""What counts as trained, and the trusted re-evaluations that measure it: the grader's, not the reference's.

The reference is the math; these are grading criteria. Each threshold comes from the reference's own
runs over seeds (reference/BUDGETS.md, `make budgets`); tests/test_criteria.py pins the vectorised
adder against the reference's add_binary, pair by pair.
"""
import numpy as np
import torch

from reference.s4_binary_adder import sigmoid
from reference.s5_char_lm import X_TEXT, Y_TEXT, encode

# What "learned to add" means for the grader: the share of all 128 x 128 sums the trained network
# gets right. Plain SGD at a constant rate keeps a few pairs flickering for some seeds (accuracy
# 0.9995-0.9999 for seed 0-49 between 11000 and 24000 iterations), so exactly 1.0 is not a fair bar.
PASS_ACCURACY = 0.99


def binary_adder_sums(weights, width=8):
    """The network's sum of every pair a, b in [0, 2**(width-1)): an (n, n) integer array, [a, b] -> a + b as added.

    Vectorised over the 128 x 128 pairs: the grader's trusted re-evaluation of a trained adder.
    """
    n = 2 ** (width - 1)
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return binary_adder_sums_of(weights, a.ravel(), b.ravel(), width).reshape(n, n)


def binary_adder_sums_of(weights, a, b, width=8):
    """The network's sums a[i] + b[i] for integer arrays a, b (N,), vectorised: an (N,) integer array."""
    W_xh, W_hh, W_hy = (np.asarray(weights[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy"))
    h = np.zeros((a.size, W_hh.shape[0]))  # (N, H)
    pred = np.zeros(a.size, dtype=np.int64)
    for t in range(width):
        x = np.stack([(a >> t) & 1, (b >> t) & 1], axis=1).astype(np.float64)  # (N, 2)
        h = sigmoid(x @ W_xh + h @ W_hh)  # (N, H)
        y = sigmoid(h @ W_hy)[:, 0]  # (N,)
        pred += (y > 0.5).astype(np.int64) << t
    return pred


def binary_adder_accuracy(weights, width=8):
    """Fraction of all pairs a, b in [0, 2**(width-1)) that the network adds exactly."""
    return sums_accuracy(binary_adder_sums(weights, width))


def sums_accuracy(sums):
    """Fraction of an (n, n) table of sums, [a, b] -> a + b as added, that is right."""
    a, b = np.meshgrid(np.arange(sums.shape[0]), np.arange(sums.shape[1]), indexing="ij")
    return float(np.mean(sums == a + b))


def char_lm_loss(model):
    """The cross-entropy of model on "hello" -> "ohlol", without training it."""
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model(encode(X_TEXT)), encode(Y_TEXT).view(-1)).item()
