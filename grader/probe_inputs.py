"""What the section plans (grader/plans/sN.py) draw their probes' inputs with: random weights, sizes, words and
one-hot batches, and the tests that keep a random draw only when it is decisive (the reference's answer has a clear
margin) and exposes the bugs it targets. Some run the reference: the plans are the grader's, never the kit's.
"""
import json
from pathlib import Path

import numpy as np

BUDGETS = json.loads((Path(__file__).resolve().parent.parent / "reference" / "budgets.json").read_text())
N_RANDOM = 4  # randomized probes per function


def original_adder_weights(H=16, seed=0):
    """synapse_0, synapse_1, synapse_h drawn as the homework's code draws them after np.random.seed(0)."""
    rng = np.random.RandomState(seed)
    w_xh = 2 * rng.random_sample((2, H)) - 1
    w_hy = 2 * rng.random_sample((H, 1)) - 1
    w_hh = 2 * rng.random_sample((H, H)) - 1
    return {"W_xh": w_xh, "W_hh": w_hh, "W_hy": w_hy}


def rnn_state(rng, input_size, hidden_size, num_layers=None, scale=1.0):
    """A random state_dict for nn.RNNCell (num_layers None) or nn.RNN.

    Weights are N(0, scale^2 / hidden_size), as torch's own initialisation scales them: the
    recurrence then neither explodes nor turns chaotic, so float32 round-off stays small.
    """
    scale = scale / np.sqrt(hidden_size)
    if num_layers is None:
        names = [("weight_ih", (hidden_size, input_size)), ("weight_hh", (hidden_size, hidden_size)),
                 ("bias_ih", (hidden_size,)), ("bias_hh", (hidden_size,))]
    else:
        names = []
        for layer in range(num_layers):
            inp = input_size if layer == 0 else hidden_size
            names += [(f"weight_ih_l{layer}", (hidden_size, inp)), (f"weight_hh_l{layer}", (hidden_size, hidden_size)),
                      (f"bias_ih_l{layer}", (hidden_size,)), (f"bias_hh_l{layer}", (hidden_size,))]
    return {k: (rng.normal(size=s) * scale).astype(np.float32) for k, s in names}


def linear_state(rng, inp, out, scale=1.0):
    scale = scale / np.sqrt(inp)
    return {"weight": (rng.normal(size=(out, inp)) * scale).astype(np.float32),
            "bias": (rng.normal(size=(out,)) * scale).astype(np.float32)}


def charrnn_state(rng, scale=1.0, num_class=4, embedding_size=10, hidden_size=8, num_layers=2):
    """A random state_dict of the reference CharRNN's shape (of CharRNN(**sizes) when sizes are given)."""
    state = {"emb.weight": (rng.normal(size=(num_class, embedding_size)) * scale).astype(np.float32)}
    state.update({f"rnn.{k}": v for k, v in rnn_state(rng, embedding_size, hidden_size, num_layers, scale * 1.5).items()})
    state.update({f"fc.{k}": v for k, v in linear_state(rng, hidden_size, num_class, scale * 3).items()})
    return state


def distinct_sizes(rng, low, high, defaults):
    """Sizes drawn in [low, high), each different from its default and from the others (no tie hides a swap)."""
    while True:
        sizes = [int(v) for v in rng.integers(low, high)]
        if len(set(sizes)) == len(sizes) and not any(s == d for s, d in zip(sizes, defaults)):
            return sizes


def seq2seq_state(rng, n_hidden, n_class=29, scale=1.5):
    state = {f"encoder.{k}": v for k, v in rnn_state(rng, n_class, n_hidden, 1, scale).items()}
    state.update({f"decoder.{k}": v for k, v in rnn_state(rng, n_class, n_hidden, 1, scale).items()})
    state.update({f"fc.{k}": v for k, v in linear_state(rng, n_hidden, n_class, scale * 3).items()})
    return state


ARGMAX_GAP = 1e-3  # float32 logits of two correct implementations differ by < 1e-5 (grader/TOLERANCES.md)
SIGMOID_GAP = 1e-6  # float64 outputs of two correct implementations differ by < 1e-15


def decisive(kind, *args):
    """True when the reference's rounding or argmax on these inputs has a clear margin, so that
    round-off in a correct submission cannot flip it."""
    import torch

    import reference
    from .expected import materialise
    if kind == "add":
        _, y = reference.binary_adder_forward(*args)
        return bool(np.min(np.abs(y - 0.5)) > SIGMOID_GAP)
    model = materialise(args[0])
    with torch.no_grad():
        if kind == "predict":
            logits = model(reference.s5_char_lm.encode(args[1]))  # (T, 4)
        else:
            n_step = args[2] if len(args) > 2 else 5
            enc, dec, _ = reference.make_data([[args[1], "?" * n_step]], n_step)
            logits = model(enc, torch.zeros(1, 1, model.decoder.hidden_size), dec)[:, 0]  # (n_step+1, 29)
    top = torch.topk(logits, 2, dim=-1).values
    return bool(torch.min(top[:, 0] - top[:, 1]) > ARGMAX_GAP)


# The random add_binary probes' sum is the network's answer for at most 5% of the pairs below 128 (or below
# 2 ** (width - 1)). Most random networks answer every pair alike (the median of 200 draws shares its sum with all of
# them), and then a bug that feeds the network the wrong bits passed 4.8 at the seeds that drew only such networks
# (make mutation: int2binary shifted by one scored 1/20 at four seeds and 2/20 at the fifth). About one draw in five
# qualifies at widths 8, 11 and 12 (300 draws each), so plan_s4's 200 tries find one; width 5 is exempt (below).
SHARED_SUM = 0.05


def input_sensitive(weights, a, b, width=8):
    """True when the reference network's sum of a and b is its sum of few other pairs (SHARED_SUM)."""
    from .criteria import binary_adder_sums_of
    if width < 8:  # 32 possible sums of 256 pairs: 0.5% of networks qualify (400 draws); the wider probes carry it
        return True
    n = 128
    grid = np.arange(0, n, 2)  # every other value below 128: 4096 pairs, a quarter of the cost
    grid_a, grid_b = np.meshgrid(grid, grid, indexing="ij")
    sums = binary_adder_sums_of(weights, np.append(grid_a.ravel(), a), np.append(grid_b.ravel(), b), width)
    return bool(np.mean(sums[:-1] == sums[-1]) <= SHARED_SUM)


def adder_bugs_show(weights, a, b, width=8):
    """True when the reference network's sum of a and b changes if a's or b's bits are read in the other order, or if
    the width is taken as 8 (as 7 or 9 at the default 8): add_binary (4.8) then fails those bugs at every seed, not at
    the seeds whose networks happen to answer alike (make mutation: _lsb_first without one [::-1], forward ignoring
    its width, and add_binary's default width 9 or 7 lost 4.8 at some seeds only)."""
    from .criteria import binary_adder_sums_of

    def add(x, y, w=width):
        return int(binary_adder_sums_of(weights, np.array([x]), np.array([y]), w)[0])

    def reverse(x):
        return int(format(x, f"0{width}b")[::-1], 2)

    base = add(a, b)
    widths = [8] if width != 8 else [7, 9]  # the width ignored for the default 8, or the default 8 off by one
    return all(other != base for other in [add(reverse(a), b), add(a, reverse(b))] + [add(a, b, w) for w in widths])


def raw_decoding(value, word, n_step=5):
    """The reference model's greedy decoding of word, before the cut at 'E' and the removal of '?'."""
    import torch

    import reference
    from .expected import materialise
    model = materialise(value)
    enc, dec, _ = reference.make_data([[word, "?" * n_step]], n_step)
    with torch.no_grad():
        out = model(enc, torch.zeros(1, 1, model.decoder.hidden_size), dec)  # (n_step+1, 1, 29)
    return "".join(reference.LETTERS[i] for i in out.argmax(dim=2)[:, 0].tolist())


def translation(value, word, n_step=5):
    """The reference's translate of word by the model."""
    import reference
    from .expected import materialise
    return reference.translate(materialise(value), word, n_step)


def translation_padded_to_5(value, word, n_step):
    """What translate(model, word, n_step) gives when make_data ignores n_step and pads the word to 5 (the homework's
    global): the encoder reads word + '?' * (5 - len(word)) + 'E', the decoder 'S' + '?' * n_step."""
    import torch

    import reference
    from .expected import materialise
    model = materialise(value)
    enc = reference.make_data([[word, "?" * 5]], 5)[0]
    dec = reference.make_data([[word, "?" * n_step]], n_step)[1]
    with torch.no_grad():
        out = model(enc, torch.zeros(1, 1, model.decoder.hidden_size), dec)
    decoded = "".join(reference.LETTERS[i] for i in out.argmax(dim=2)[:, 0].tolist())
    return (decoded[:decoded.index("E")] if "E" in decoded else decoded).replace("?", "")


def one_hot_batch(rng, batch, steps, n_class=29):
    idx = rng.integers(0, n_class, size=(batch, steps))
    return np.eye(n_class, dtype=np.float32)[idx]  # (batch, steps, n_class)


def random_word(rng, lo, hi):
    return "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=int(rng.integers(lo, hi + 1))))
