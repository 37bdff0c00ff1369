# expect: {"1": 0, "2": 10, "3": 15} message: "ran out of memory"
import numpy as np


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    hog = np.ones(6 * 2 ** 30 // 8)  # 6 GiB
    return hog, hog
