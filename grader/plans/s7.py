"""Section 7's probes: the homework's pairs and training, the student's translate on it, then random words and weights."""
import numpy as np

from hw8core import probe_ids as P
from hw8core.homework import LETTERS, SEQ_DATA
from hw8core.wire import ResultOf, StudentModule, Tensor

from ..probe_inputs import (BUDGETS, N_RANDOM, decisive, distinct_sizes, one_hot_batch, raw_decoding,
                            random_word, seq2seq_state, translation, translation_padded_to_5)


def plan(p):
    p.add("s7.data.hw", "make_data", [[list(pair) for pair in SEQ_DATA]], hidden=False)
    p.add_training("s7", "train_seq2seq", "epochs", BUDGETS["seq2seq_epochs"]["budget"],
                   {"lr": 0.001, "batch_size": 3})
    for word, _target in SEQ_DATA:  # the student's own translate, on the student's own trained model
        p.add(P.translate_trained(word), "translate", [ResultOf(P.train("s7"), None), word], hidden=False,
              role=P.ON_TRAINED)
    for k in range(N_RANDOM):
        n_step = (6, 7, 8, 5)[k % 4]  # every run tries n_step other than the default 5
        pairs = [[random_word(p.rng, 1, n_step), random_word(p.rng, 1, n_step)]
                 for _ in range(int(p.rng.integers(1, 5)))]
        if k == 1:  # and two words of n_step and n_step - 1 letters: a make_data that pads to 5 fails at every seed
            pairs += [[random_word(p.rng, n_step, n_step), random_word(p.rng, 1, n_step)],
                      [random_word(p.rng, n_step - 1, n_step - 1), random_word(p.rng, 1, n_step)]]
        p.add(f"s7.data.rand{k}", "make_data", [pairs], {"n_step": n_step})
        n_hidden = int(p.rng.integers(8, 48))
        state = seq2seq_state(p.rng, n_hidden)
        B = int(p.rng.integers(1, 4))
        model = StudentModule("Seq2Seq", {"n_class": 29, "n_hidden": n_hidden}, state)
        args = [model, Tensor(one_hot_batch(p.rng, B, 6)), Tensor(np.tanh(p.rng.normal(size=(1, B, n_hidden))).astype(np.float32)),
                Tensor(one_hot_batch(p.rng, B, 6))]
        p.add(f"s7.forward.rand{k}", "@call", args)
        # translate sees the model only through Seq2Seq(), which the homework builds one way: its size
        # (n_hidden 128) is not the function's to vary, so only the weights and the word are random.
        # Probe 0's raw decoding always holds a '?' before its first 'E', probe 1's an early 'E': the
        # padding and the cut are then tested at every seed, not only when random weights happen to.
        # Probes 2 and 3 decode at n_step 7 and 6, where the reference's translation differs from its translation
        # at the default 5, and from the one a make_data that ignores n_step gives: a translate that ignores n_step,
        # or calls such a make_data, then fails at every seed (make mutation; tests/test_mutants.py's
        # s7_n_step_ignored scored 18 or 19 by seed without the second).
        # Probe 1's 'E' follows a character that is kept (not '?'), so a cut one short shows; probe 3's decoding
        # holds a second 'E' with a kept character between, so a cut at the last 'E' shows (make mutation found both
        # passing at some seeds). Its model's 'E' logit is raised by 3: two 'E's with a letter between are then
        # 28% of draws, against 1.3% unbiased (150 and 300 draws), so the 200 tries find one.
        def cut_short_shows(raw):
            return "E" in raw[1:-1] and raw[raw.index("E") - 1] != "?"

        def two_cuts(raw):
            return raw.count("E") >= 2 and any(c not in "E?" for c in raw[raw.index("E"):raw.rindex("E")])

        need = {0: lambda raw: "?" in raw.split("E")[0], 1: cut_short_shows, 3: two_cuts}.get(k, lambda raw: True)
        n_step = (5, 5, 7, 6)[k % 4]
        for _ in range(200):
            state = seq2seq_state(p.rng, 128)
            if k == 3:
                state["fc.bias"] = state["fc.bias"] + np.float32(3.0) * (np.arange(29) == LETTERS.index("E"))
            model = StudentModule("Seq2Seq", {}, state)
            word = random_word(p.rng, 1, 5)
            if decisive("translate", model, word, n_step) and need(raw_decoding(model, word, n_step)) and (
                    n_step == 5 or translation(model, word, n_step) not in (
                        translation(model, word), translation_padded_to_5(model, word, n_step))):
                break
        p.add(f"s7.translate.rand{k}", "translate", [model, word], {} if n_step == 5 else {"n_step": n_step})
    # Seq2Seq at another n_class too (every other probe has the homework's 29), run on inputs of that many classes.
    # Drawn last, so the probes above are the same as before; a model that ignores n_class fails at every seed.
    n_class, n_hidden = distinct_sizes(p.rng, [3, 8], [29, 48], [29, 128])
    B = int(p.rng.integers(1, 4))
    model = StudentModule("Seq2Seq", {"n_class": n_class, "n_hidden": n_hidden}, seq2seq_state(p.rng, n_hidden, n_class))
    p.add("s7.forward.rand_sized", "@call", [model, Tensor(one_hot_batch(p.rng, B, 6, n_class)),
                                             Tensor(np.tanh(p.rng.normal(size=(1, B, n_hidden))).astype(np.float32)),
                                             Tensor(one_hot_batch(p.rng, B, 6, n_class))])
