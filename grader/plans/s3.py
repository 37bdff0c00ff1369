"""Section 3's probes: the homework's all-ones modules and sequence, then random modules, sizes and h0."""
import numpy as np

from hw8core.homework import HW_INPUTS
from hw8core.wire import Tensor, TorchModule

from ..probe_inputs import N_RANDOM, linear_state, rnn_state


def plan(p):
    seq = Tensor(HW_INPUTS[:, None, :].astype(np.float32))  # (T=3, batch=1, 2)
    ones_cell = {k: (np.ones if k.startswith("weight") else np.zeros)(v.shape, np.float32)
                 for k, v in rnn_state(p.rng, 2, 2).items()}
    ones_rnn = {k: (np.ones if k.startswith("weight") else np.zeros)(v.shape, np.float32)
                for k, v in rnn_state(p.rng, 2, 2, 1).items()}
    ones_linear = {"weight": np.ones((2, 2), np.float32), "bias": np.zeros(2, np.float32)}
    p.add("s3.build_cell.hw", "build_rnncell", hidden=False)
    p.add("s3.build_rnn.hw", "build_rnn", hidden=False)
    p.add("s3.cell.hw", "run_rnncell", [TorchModule("RNNCell", {"input_size": 2, "hidden_size": 2}, ones_cell),
                                        TorchModule("Linear", {"in_features": 2, "out_features": 2}, ones_linear), seq],
          hidden=False)
    p.add("s3.rnn.hw", "run_rnn", [TorchModule("RNN", {"input_size": 2, "hidden_size": 2, "num_layers": 1}, ones_rnn),
                                   TorchModule("Linear", {"in_features": 2, "out_features": 2}, ones_linear), seq],
          hidden=False)
    # The random build asks for sizes other than the homework's (2, 2, 2): at those (1 seed in 100) a builder that
    # ignores its sizes could not be told from a right one, and the check's verdict would depend on the seed.
    I, H, O, L = (int(v) for v in p.rng.integers([1, 1, 1, 1], [6, 6, 5, 4]))
    while (I, H, O) == (2, 2, 2):
        I, H, O, L = (int(v) for v in p.rng.integers([1, 1, 1, 1], [6, 6, 5, 4]))
    # Each size, too, differs from its default (2, and 1 layer) and from the others, so that a builder ignoring one
    # argument, or swapping two, fails at every seed, not at the seeds that happened to draw a default or a tie
    # (make mutation). A clash is mapped to the next unused size from 6 up, so no other probe's draw changes.
    used, sizes = {2}, []
    for v in (I, H, O, L if L != 1 else 2):
        while v in used:
            v = max(used | {5}) + 1
        used.add(v)
        sizes.append(v)
    I, H, O, L = sizes
    p.add("s3.build_cell.rand", "build_rnncell", [I, H, O])
    p.add("s3.build_rnn.rand", "build_rnn", [I, H, O], {"num_layers": L})
    for k in range(N_RANDOM):
        I, H, O, B, T, L = (int(v) for v in p.rng.integers([1, 1, 1, 1, 1, 1], [5, 6, 4, 4, 6, 4]))
        while k == 0 and B in (H, L, T):  # probe 0 has no h0: its zeros (L, B, H) / (B, H) show a swap at every seed,
            B += 1  # and a batch read off the wrong axis (T) too
        x = Tensor(p.rng.normal(size=(T, B, I)).astype(np.float32))
        lin = TorchModule("Linear", {"in_features": H, "out_features": O}, linear_state(p.rng, H, O))
        cell = TorchModule("RNNCell", {"input_size": I, "hidden_size": H}, rnn_state(p.rng, I, H))
        kw = {} if k == 0 else {"h0": Tensor(p.rng.normal(size=(B, H)).astype(np.float32))}
        p.add(f"s3.cell.rand{k}", "run_rnncell", [cell, lin, x], kw)
        rnn = TorchModule("RNN", {"input_size": I, "hidden_size": H, "num_layers": L}, rnn_state(p.rng, I, H, L))
        kw = {} if k == 0 else {"h0": Tensor(p.rng.normal(size=(L, B, H)).astype(np.float32))}
        p.add(f"s3.rnn.rand{k}", "run_rnn", [rnn, lin, x], kw)
