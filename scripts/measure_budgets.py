"""Measure the training budgets of sections 4, 5 and 7 over many seeds.

For each seed the reference training is run once, and its pass criterion is evaluated at
checkpoints along the way. The budget is the smallest checkpoint from which every seed passes
at every later checkpoint, times a margin of 1.5, rounded up to the checkpoint grid.

    python scripts/measure_budgets.py [--sections 4 5 7]   # writes reference/budgets.json and BUDGETS.md

Sections not named keep their earlier measurement. All three take about 15 minutes on 2 cores.
"""
import json
import math
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import criteria  # noqa: E402
from reference import s4_binary_adder as s4, s5_char_lm as s5, s7_seq2seq as s7  # noqa: E402

MARGIN = 1.5
ADDER = dict(seeds=range(50), checkpoints=list(range(1000, 30001, 1000)), criterion=f"accuracy >= {criteria.PASS_ACCURACY} over all 128x128 pairs")
CHARLM = dict(seeds=range(50), checkpoints=list(range(5, 41)), criterion="last printed loss < 0.05, trusted loss < 0.05, predict == 'ohlol'")
SEQ2SEQ = dict(seeds=range(20), checkpoints=list(range(100, 2001, 100)), criterion="6/6 SEQ_DATA translations")


def adder_curve(seed, checkpoints=ADDER["checkpoints"], width=8):
    """Replays train_binary_adder step for step, recording accuracy at each checkpoint."""
    rng = np.random.RandomState(seed)
    H = 16
    w = {"W_xh": 2 * rng.random_sample((2, H)) - 1,
         "W_hy": 2 * rng.random_sample((H, 1)) - 1,
         "W_hh": 2 * rng.random_sample((H, H)) - 1}
    out, it = {}, 0
    for cp in checkpoints:
        while it < cp:
            a, b = rng.randint(2 ** (width - 1)), rng.randint(2 ** (width - 1))
            g = s4.binary_adder_gradients(w, a, b, width)
            for k in w:
                w[k] -= 0.1 * g[k]
            it += 1
        out[cp] = criteria.binary_adder_accuracy(w)
    return seed, out


def charlm_curve(seed, checkpoints=CHARLM["checkpoints"]):
    out = {}
    for cp in checkpoints:
        model, losses = s5.train_char_lm(epochs=cp, lr=0.05, seed=seed)
        out[cp] = dict(printed=losses[-1], trusted=criteria.char_lm_loss(model), pred=s5.predict(model))
    return seed, out


def seq2seq_curve(seed, checkpoints=SEQ2SEQ["checkpoints"]):
    """Replays train_seq2seq epoch for epoch, counting right translations at each checkpoint."""
    torch.manual_seed(seed)
    enc, dec_in, dec_out = s7.make_data(s7.SEQ_DATA, 5)
    model = s7.Seq2Seq()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    out, ep = {}, 0
    for cp in checkpoints:
        while ep < cp:
            for batch in torch.randperm(len(s7.SEQ_DATA)).split(3):
                h0 = torch.zeros(1, len(batch), 128)
                pred = model(enc[batch], h0, dec_in[batch]).transpose(0, 1)
                loss = sum(torch.nn.functional.cross_entropy(p, y) for p, y in zip(pred, dec_out[batch]))
                opt.zero_grad()
                loss.backward()
                opt.step()
            ep += 1
        out[cp] = sum(s7.translate(model, w) == t for w, t in s7.SEQ_DATA)
    return seed, out


def _init():
    torch.set_num_threads(1)


def replay_is_faithful():
    """The replays above must follow the reference training exactly."""
    w = s4.train_binary_adder(iterations=500, seed=3)
    acc = criteria.binary_adder_accuracy(w)
    assert acc == adder_curve(3, [500])[1][500], "adder replay diverged"
    m = s7.train_seq2seq(epochs=100, seed=3)
    assert sum(s7.translate(m, a) == b for a, b in s7.SEQ_DATA) == seq2seq_curve(3, [100])[1][100]


def budget(table, passes, checkpoints):
    """Smallest checkpoint from which all seeds pass at every later checkpoint; then the margin."""
    first = None
    for cp in checkpoints:
        if all(passes(table[s][cp]) for s in table):
            first = cp if first is None else first
        else:
            first = None
    if first is None:
        return None, None
    with_margin = math.ceil(first * MARGIN)
    grid = [cp for cp in checkpoints if cp >= with_margin]
    return first, (grid[0] if grid else with_margin)


def table_lines(name, key, spec, entry):
    lines = [f"## {name}", "", f"Criterion: {spec['criterion']}. Seeds: {entry['seeds']}.",
             f"All seeds pass from {entry['all_seeds_pass_from']}; **budget {entry['budget']}**.", "",
             "| budget | seeds passing | worst seed |", "|---|---|---|"]
    lines += [f"| {cp} | {ok} | {worst} |" for cp, ok, worst in entry["table"]]
    return lines + [""]


SECTIONS = {
    4: ("Section 4: binary adder (iterations, alpha 0.1, hidden 16)", "binary_adder_iterations", ADDER, adder_curve,
        lambda v: v >= criteria.PASS_ACCURACY, lambda t, cp: f"accuracy {min(t[s][cp] for s in t):.4f}"),
    5: ("Section 5: char-LM (epochs, lr 0.05)", "char_lm_epochs", CHARLM, charlm_curve,
        lambda v: v["printed"] < 0.05 and v["trusted"] < 0.05 and v["pred"] == "ohlol",
        lambda t, cp: f"printed loss {max(t[s][cp]['printed'] for s in t):.4f}, "
                      f"trusted loss {max(t[s][cp]['trusted'] for s in t):.4f}"),
    7: ("Section 7: seq2seq (epochs, lr 0.001, batch 3)", "seq2seq_epochs", SEQ2SEQ, seq2seq_curve,
        lambda v: v == 6, lambda t, cp: f"{min(t[s][cp] for s in t)}/6"),
}


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, nargs="+", default=[4, 5, 7])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    replay_is_faithful()
    path = ROOT / "reference" / "budgets.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    for n in args.sections:
        name, key, spec, curve, passes, fmt = SECTIONS[n]
        t0 = time.time()
        with multiprocessing.Pool(2, initializer=_init) as pool:
            table = dict(pool.map(curve, spec["seeds"]))
        first, chosen = budget(table, passes, spec["checkpoints"])
        result[key] = dict(budget=chosen, all_seeds_pass_from=first, margin=MARGIN,
                           seeds=f"{min(table)}-{max(table)}", criterion=spec["criterion"],
                           measured=f"{time.time() - t0:.0f} s, torch {torch.__version__}, numpy {np.__version__}, "
                                    f"1 thread per process, 2 processes",
                           per_seed={str(seed): {str(cp): v for cp, v in curve_.items()} for seed, curve_ in table.items()},
                           table=[[cp, f"{sum(passes(table[s][cp]) for s in table)}/{len(table)}", fmt(table, cp)]
                                  for cp in spec["checkpoints"]])
        path.write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Training budgets, measured", "",
             "Produced by `python scripts/measure_budgets.py`; the raw figures are in budgets.json.", "",
             f"Budget = the smallest checkpoint from which every seed passes at every later checkpoint, "
             f"times {MARGIN}, rounded up to the checkpoint grid.", ""]
    for n, (name, key, spec, *_rest) in SECTIONS.items():
        if key in result:
            lines += [f"Measured in {result[key]['measured']}.", ""] + table_lines(name, key, spec, result[key])
    (ROOT / "reference" / "BUDGETS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
