"""Section 5's probes: the homework's model and training, the student's predict on it, then random weights and texts."""
import numpy as np

from hw8core import probe_ids as P
from hw8core.wire import ResultOf, StudentModule, Tensor

from ..probe_inputs import BUDGETS, N_RANDOM, charrnn_state, decisive, distinct_sizes


def plan(p):
    p.add("s5.model.hw", "CharRNN", hidden=False)
    p.add_training("s5", "train_char_lm", "epochs", BUDGETS["char_lm_epochs"]["budget"], {"lr": 0.05})
    p.add(P.S5_PREDICT_TRAINED, "predict", [ResultOf(P.train("s5"), 0), "hello"], hidden=False, role=P.ON_TRAINED)
    for k in range(N_RANDOM):
        state = charrnn_state(p.rng)
        B, T = (int(v) for v in p.rng.integers([1, 1], [4, 8]))
        x = Tensor(p.rng.integers(0, 4, size=(B, T)).astype(np.int64))
        p.add(f"s5.forward.rand{k}", "@call", [StudentModule("CharRNN", {}, state), x])
        for _ in range(50):
            text = "".join(p.rng.choice(list("ehlo"), size=int(p.rng.integers(1, 9))))
            if decisive("predict", StudentModule("CharRNN", {}, state), text):
                break
            state = charrnn_state(p.rng)
        p.add(f"s5.predict.rand{k}", "predict", [StudentModule("CharRNN", {}, state), text])
    # CharRNN at other sizes, each unlike its default and the others: built and run, both in 5.1 (the model's own
    # check: a model whose sizes are not its arguments loses that, not 5.3 too). Drawn last, so the probes above are
    # the same as before; a model that ignores one of its sizes fails at every seed (make mutation).
    sizes = dict(zip(["num_class", "embedding_size", "hidden_size", "num_layers"],  # at most 4 layers: depth costs time
                     distinct_sizes(p.rng, [2, 1, 1, 1], [13, 13, 13, 5], [4, 10, 8, 2])))
    p.add("s5.model.rand", "CharRNN", [], sizes)
    B, T = (int(v) for v in p.rng.integers([1, 1], [4, 8]))
    T += T == B  # batch and length differ: a hidden state sized by the wrong one fails at every seed (make mutation)
    x = Tensor(p.rng.integers(0, sizes["num_class"], size=(B, T)).astype(np.int64))
    p.add("s5.model.rand_forward", "@call", [StudentModule("CharRNN", sizes, charrnn_state(p.rng, **sizes)), x])
