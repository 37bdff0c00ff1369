"""What the checks compare with, in the student kit: stored numbers, and the student's own functions.

Passed to the shared checks as Evidence(..., oracle=kit.oracle()) (hw8core/evidence.py). The grader's oracle
(grader/oracle.py) runs the reference. Here there is none: the expected value
of each visible probe was stored when the kit was built, and a trained model is judged by extra
probes the kit adds after the trainings it judges (probe ids with ".kit_"): the student's add_binary over all
128 x 128 sums, and the student's model's logits on the homework's inputs. It is the student's
own machine, so their functions need not be distrusted; the graded run re-checks with the reference.
"""
import math

import numpy as np

from hw8core.homework import IDX2CHAR, LETTERS, SEQ_DATA, Y_TEXT
from hw8core.evidence import fail
from hw8core.wire import TensorValue

ADDER_N = 128  # operands a, b < 2**7: all 128 x 128 sums, as the grader's accuracy
ADDER_CHUNKS = 2  # @each probes per training (an answer list holds at most 10000 items)


def adder_sums_probe(pid, chunk):
    return f"{pid}.kit_sums{chunk}"


def adder_sums_stop(pass_accuracy):
    """How many wrong sums within one probe settle that the accuracy over all 128 x 128 is below pass_accuracy:
    one more than the most a passing network may get wrong (163 of 16384 at 99%)."""
    total = ADDER_N * ADDER_N
    return total - math.ceil(round(pass_accuracy * total, 6)) + 1


def logits_probe(pid):
    return f"{pid}.kit_logits"


class StoredOracle:
    def __init__(self, expected, state_shapes, pass_accuracy):
        self._expected = expected
        self._state_shapes = state_shapes
        self.pass_accuracy = pass_accuracy
        self._sums_of = {}  # training probe id -> its (128, 128) sums: read once, asked for up to eight times

    def expected(self, probe):
        if probe.id not in self._expected:
            raise KeyError(f"the kit stores no expected value for probe {probe.id}")
        return self._expected[probe.id]

    def state_shapes(self, cls):
        return dict(self._state_shapes[cls])

    def run_built(self, kind, net, linear, seq):
        return None  # nothing to run them with; see hw8core/checks/test_s3.py's run_built_on_homework

    def _sums(self, evidence, pid):
        if pid not in self._sums_of:
            self._sums_of[pid] = self._read_sums(evidence, pid)
        return self._sums_of[pid]

    def _read_sums(self, evidence, pid):
        """(sums, asked): the (128, 128) sums, and which were asked. A probe with a stop rule (the tiny training's:
        adder_sums_stop) ends once enough sums are wrong that the accuracy is below the pass mark whatever the rest."""
        per = ADDER_N * ADDER_N // ADDER_CHUNKS
        sums, asked = np.zeros(ADDER_N * ADDER_N, np.int64), np.zeros(ADDER_N * ADDER_N, bool)
        for chunk in range(ADDER_CHUNKS):
            got = evidence.answer(adder_sums_probe(pid, chunk))
            for k, value in enumerate(got[:per]):
                if isinstance(value, bool) or not isinstance(value, (int, np.integer, np.ndarray)) or np.ndim(value):
                    fail(f"add_binary(weights, a, b) should return an integer, but returned {value!r} "
                         f"(the kit judges your trained weights with your add_binary).",
                         f"add_binary(weights, a, b) 应返回整数，实际返回 {value!r}（自查工具用你的 add_binary 评估训练好的权重）。")
                sums[chunk * per + k], asked[chunk * per + k] = int(value), True
        return sums.reshape(ADDER_N, ADDER_N), asked.reshape(ADDER_N, ADDER_N)

    def adder_accuracy(self, evidence, pid):
        """The share of all 128 x 128 sums right; where the kit stopped asking (adder_sums_stop), the most it can be:
        every sum not asked counted right, which is still below the pass mark."""
        sums, asked = self._sums(evidence, pid)
        a, b = np.meshgrid(np.arange(ADDER_N), np.arange(ADDER_N), indexing="ij")
        if asked.all():
            return float(np.mean(sums == a + b))  # as the grader's criteria.sums_accuracy
        return 1.0 - float(np.sum(asked & (sums != a + b))) / sums.size

    def adder_sum(self, evidence, pid, a, b):
        sums, asked = self._sums(evidence, pid)
        return int(sums[a, b]) if asked[a, b] else None

    def _logits(self, evidence, pid, shape):
        got = evidence.answer(logits_probe(pid))
        if not isinstance(got, TensorValue) or tuple(got.array.shape) != tuple(shape):
            fail(f"The trained model's forward should give logits of shape {tuple(shape)}, but gave {got!r:.200}.",
                 f"训练好的模型的 forward 应给出形状为 {tuple(shape)} 的 logits，实际为 {got!r:.200}。")
        return np.asarray(got.array, np.float64)

    def char_lm(self, evidence, pid, state):
        """Cross-entropy and argmax of the trained model's logits on "hello" (its own forward)."""
        logits = self._logits(evidence, pid, (len(Y_TEXT), len(IDX2CHAR)))
        target = [IDX2CHAR.index(ch) for ch in Y_TEXT]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-log_probs[np.arange(len(target)), target].mean())
        return loss, "".join(IDX2CHAR[i] for i in logits.argmax(axis=1))

    def translations(self, evidence, pid, state):
        """Greedy decoding of the six words by the trained model's own forward: up to the first E, without ?."""
        logits = self._logits(evidence, pid, (6, len(SEQ_DATA), len(LETTERS)))  # (n_step+1, words, letters)
        out = {}
        for i, (word, _) in enumerate(SEQ_DATA):
            letters = "".join(LETTERS[j] for j in logits[:, i].argmax(axis=1))
            out[word] = letters.split("E")[0].replace("?", "")
        return out
