# expect: {"1": 0, "2": 10, "3": 15} message: "ended the whole Python process"
import os


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    os._exit(0)
