"""Reference solutions for Homework 8 (RNN), one module per section: 1, 2, 3, 4, 5 and 7.

The public names here are the student API: the grader checks submissions against them.
"""
from .s1_srn import srn_forward
from .s2_srn_tanh import srn_forward_tanh
from .s3_torch_rnn import build_rnncell, run_rnncell, build_rnn, run_rnn
from .s4_binary_adder import (int2binary, binary2int, binary_adder_forward, binary_adder_gradients,
                              train_binary_adder, add_binary)
from .s5_char_lm import IDX2CHAR, CharRNN, train_char_lm, predict
from .s7_seq2seq import LETTERS, SEQ_DATA, make_data, Seq2Seq, train_seq2seq, translate

# The student API, section by section, in the order of the homework.
API = {
    1: ["srn_forward"],
    2: ["srn_forward_tanh"],
    3: ["build_rnncell", "run_rnncell", "build_rnn", "run_rnn"],
    4: ["int2binary", "binary2int", "binary_adder_forward", "binary_adder_gradients",
        "train_binary_adder", "add_binary"],
    5: ["IDX2CHAR", "CharRNN", "train_char_lm", "predict"],
    7: ["LETTERS", "SEQ_DATA", "make_data", "Seq2Seq", "train_seq2seq", "translate"],
}

# Each section's module (1: "s1_srn", ...), read off the API's own functions and classes: the template
# generator and the tests take it from here rather than spelling it again.
MODULES = {n: next(obj.__module__.rsplit(".", 1)[1] for obj in map(globals().get, names) if callable(obj))
           for n, names in API.items()}

# Every name of the API, in the homework's order: what a graded run looks up in a submission.
API_NAMES = [name for names in API.values() for name in names]
