"""Section 4: the binary-addition RNN, trained with hand-written backpropagation through time.

Row convention, as in the original code (synapse_0, synapse_h, synapse_1):
    h_t = sigmoid(x_t @ W_xh + h_{t-1} @ W_hh)        x_t = [a_t, b_t], bits least significant first
    y_t = sigmoid(h_t @ W_hy)
    L   = 0.5 * sum_t (c_t - y_t)^2                   c = the bits of a + b
"""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def int2binary(n, width=8):
    """The bits of n, most significant first: shape (width,), dtype uint8."""
    return np.array([(int(n) >> (width - 1 - i)) & 1 for i in range(width)], dtype=np.uint8)


def binary2int(bits):
    """The inverse of int2binary: bits most significant first."""
    out = 0
    for bit in bits:
        out = 2 * out + int(bit)
    return out


def _lsb_first(a, b, width):
    """Inputs (width, 2) and targets (width,), both least significant bit first."""
    x = np.stack([int2binary(a, width)[::-1], int2binary(b, width)[::-1]], axis=1).astype(np.float64)  # (width, 2)
    c = int2binary(a + b, width)[::-1].astype(np.float64)  # (width,)
    return x, c


def binary_adder_forward(weights, a, b, width=8):
    """Return hidden (width+1, H) with hidden[0] = 0, and outputs (width,), y_t for bit t from the LSB."""
    W_xh, W_hh, W_hy = weights["W_xh"], weights["W_hh"], weights["W_hy"]
    x, _ = _lsb_first(a, b, width)  # (width, 2)
    hidden = np.zeros((width + 1, W_hh.shape[0]))  # (width+1, H)
    outputs = np.zeros(width)  # (width,)
    for t in range(width):
        hidden[t + 1] = sigmoid(x[t] @ W_xh + hidden[t] @ W_hh)  # (H,)
        outputs[t] = sigmoid(hidden[t + 1] @ W_hy)[0]
    return hidden, outputs


def binary_adder_gradients(weights, a, b, width=8):
    """dL/dW for L = 0.5 * sum_t (c_t - y_t)^2, by backpropagation through time."""
    W_hh, W_hy = weights["W_hh"], weights["W_hy"]
    x, c = _lsb_first(a, b, width)  # (width, 2), (width,)
    hidden, y = binary_adder_forward(weights, a, b, width)  # (width+1, H), (width,)
    grads = {k: np.zeros_like(weights[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy")}
    dh_next = np.zeros(W_hh.shape[0])  # dL/dh_{t+1} flowing back through W_hh, (H,)
    for t in reversed(range(width)):
        dz_y = (y[t] - c[t]) * y[t] * (1 - y[t])  # dL/d(pre-sigmoid output), scalar
        grads["W_hy"] += np.outer(hidden[t + 1], [dz_y])  # (H, 1)
        dh = dz_y * W_hy[:, 0] + dh_next  # (H,)
        dz_h = dh * hidden[t + 1] * (1 - hidden[t + 1])  # (H,)
        grads["W_xh"] += np.outer(x[t], dz_h)  # (2, H)
        grads["W_hh"] += np.outer(hidden[t], dz_h)  # (H, H)
        dh_next = W_hh @ dz_h  # (H,)
    return grads


def train_binary_adder(iterations=10000, hidden_dim=16, alpha=0.1, seed=0, width=8):
    """Plain gradient descent on one random a + b per iteration, a and b in [0, 2**(width-1))."""
    rng = np.random.RandomState(seed)
    weights = {  # drawn in the original code's order: synapse_0, synapse_1, synapse_h
        "W_xh": 2 * rng.random_sample((2, hidden_dim)) - 1,
        "W_hy": 2 * rng.random_sample((hidden_dim, 1)) - 1,
        "W_hh": 2 * rng.random_sample((hidden_dim, hidden_dim)) - 1,
    }
    for _ in range(iterations):
        a = rng.randint(2 ** (width - 1))
        b = rng.randint(2 ** (width - 1))
        grads = binary_adder_gradients(weights, a, b, width)
        for k in weights:
            weights[k] -= alpha * grads[k]
    return weights


def add_binary(weights, a, b, width=8):
    """The network's sum of a and b: its outputs rounded to bits, read back as an integer."""
    _, y = binary_adder_forward(weights, a, b, width)
    bits_lsb_first = (y > 0.5).astype(np.uint8)
    return binary2int(bits_lsb_first[::-1])
