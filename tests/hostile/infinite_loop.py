# expect: {"1": 10, "2": 0, "3": 15} message: "did not finish in time"
def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    while True:
        pass
