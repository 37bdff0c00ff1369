"""Section 4's probes: the homework's sums and seed-0 weights, the training, then random widths and weights."""
import numpy as np

from ..probe_inputs import BUDGETS, N_RANDOM, adder_bugs_show, decisive, input_sensitive, original_adder_weights


def plan(p):
    w0 = original_adder_weights()
    for n in (77, 82, 194, 14):  # the "True:" bit strings the homework prints
        p.add(f"s4.int2binary.hw{n}", "int2binary", [n], hidden=False)
    p.add("s4.binary2int.hw", "binary2int", [np.array([0, 1, 0, 0, 1, 1, 0, 1], np.uint8)], hidden=False)
    p.add("s4.forward.hw", "binary_adder_forward", [w0, 4, 73], hidden=False)
    p.add("s4.grad.hw", "binary_adder_gradients", [w0, 4, 73], hidden=False)
    p.add("s4.add.hw", "add_binary", [w0, 4, 73], hidden=False)
    p.add_training("s4", "train_binary_adder", "iterations", BUDGETS["binary_adder_iterations"]["budget"],
                   {"hidden_dim": 16, "alpha": 0.1})
    for k in range(N_RANDOM):
        width = (4, 7, 10, 12)[k % 4]  # fixed widths, random numbers: a width bug shows at every seed
        p.add(f"s4.int2binary.rand{k}", "int2binary", [int(p.rng.integers(0, 2 ** width))], {"width": width})
        bits = p.rng.integers(0, 2, size=(1, 5, 9, 12)[k % 4]).astype(np.uint8)
        p.add(f"s4.binary2int.rand{k}", "binary2int", [bits])
        # Every run tries widths other than the default 8 (fixed, as int2binary's: a width bug shows at every seed);
        # a and b are drawn below 128 as before and folded below 2 ** (width - 1) for the narrow width.
        width = (8, 11, 5, 12)[k % 4]
        for _ in range(200):  # at widths 5 and 8, 4% of draws qualify (400 tried): 200 tries all fail with p < 3e-4
            H = int(p.rng.integers(2, 12))
            w = {"W_xh": p.rng.normal(size=(2, H)) * 1.5, "W_hh": p.rng.normal(size=(H, H)) * 1.5,
                 "W_hy": p.rng.normal(size=(H, 1)) * 1.5}
            a, b = (int(v) % 2 ** min(width - 1, 7) for v in p.rng.integers(0, 128, size=2))
            if decisive("add", w, a, b, width) and input_sensitive(w, a, b, width) and adder_bugs_show(w, a, b, width):
                break
        kwargs = {} if width == 8 else {"width": width}
        p.add(f"s4.forward.rand{k}", "binary_adder_forward", [w, a, b], kwargs)
        p.add(f"s4.grad.rand{k}", "binary_adder_gradients", [w, a, b], kwargs)
        p.add(f"s4.add.rand{k}", "add_binary", [w, a, b], kwargs)
