# expect: {"1": 0, "2": 0, "3": 15} message: "numpy.ndarray"
import numpy as np


class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        raise SystemExit("gotcha")


class Anything:
    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        return np.array([[4., 4.], [12., 12.], [32., 32.]])

    def __float__(self):
        return 1.9280551601516338

    def __len__(self):
        return 3


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    return Anything(), Anything()


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    return np.zeros((len(inputs), W_hh.shape[0])).view(Liar), np.zeros((len(inputs), W_hy.shape[0])).view(Liar)
