"""Run the reference section by section and print each number beside the homework's."""
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import reference as R  # noqa: E402

torch.set_num_threads(1)


def row(what, ours, homework):
    print(f"  {what:<28} reference {ours:<44} homework {homework}")


def main():
    x, ones = np.array([[1., 1.], [1., 1.], [2., 2.]]), np.ones((2, 2))
    print("1. NumPy SRN")
    states, outputs = R.srn_forward(x, ones, ones, ones)
    row("states[:, 0]", str(states[:, 0].tolist()), "[2.0, 6.0, 16.0]")
    row("outputs[:, 0]", str(outputs[:, 0].tolist()), "[4.0, 12.0, 32.0]")
    print("2. NumPy SRN with tanh")
    _, outputs = R.srn_forward_tanh(x, ones, ones, ones)
    row("outputs[:, 0]", str(outputs[:, 0].tolist()), "[1.9280551601516338, 1.9984510891336251, 1.9999753470497836]")
    print("3. nn.RNNCell / nn.RNN")
    seq = torch.tensor(x, dtype=torch.float32)[:, None, :]
    row("RNNCell outputs[:, 0, 0]", str([round(v, 4) for v in R.run_rnncell(*R.build_rnncell(), seq)[1][:, 0, 0].tolist()]), "[1.9281, 1.9985, 2.0]")
    row("RNN outputs[:, 0, 0]", str([round(v, 4) for v in R.run_rnn(*R.build_rnn(), seq)[1][:, 0, 0].tolist()]), "[1.9281, 1.9985, 2.0]")
    print("4. Binary adder (BPTT)")
    t = time.time()
    w = R.train_binary_adder(iterations=10000, seed=0)  # the homework's 10000 iterations
    for a, b in [(4, 73), (71, 11), (81, 113), (81, 0), (4, 125), (39, 17), (11, 3)]:
        row(f"{a} + {b}", str(R.add_binary(w, a, b)), str(a + b))
    print(f"  (10000 iterations in {time.time() - t:.1f} s)")
    print("5. Character-level LM")
    model, losses = R.train_char_lm(epochs=15, lr=0.05, seed=0)
    row("loss at epoch 15", f"{losses[-1]:.3f}", "0.007 (any value < 0.05)")
    row("predict('hello')", R.predict(model), "ohlol")
    print("7. Encoder-decoder")
    t = time.time()
    model = R.train_seq2seq(epochs=1000, seed=0)
    homework = {"man": "women", "mans": "women", "king": "queen", "black": "white", "up": "down", "old": "white", "high": "low"}
    for word, printed in homework.items():
        row(f"{word} ->", R.translate(model, word), printed + ("" if word in dict(R.SEQ_DATA) else " (not a training word)"))
    print(f"  (1000 epochs in {time.time() - t:.1f} s)")


if __name__ == "__main__":
    main()
