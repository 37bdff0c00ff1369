# expect: {"1": 0, "2": 10, "3": 15} message: "should be"
# graded together with a conftest.py, a sitecustomize.py and a numpy.py placed beside it (see test_hostile.py)
import numpy as np


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    T = len(inputs)
    return np.zeros((T, W_hh.shape[0])), np.zeros((T, W_hy.shape[0]))
