"""Section 2: the same SRN with tanh on the hidden state.

    states[t]  = tanh(W_xh @ inputs[t] + W_hh @ states[t-1])
    outputs[t] = W_hy @ states[t]
"""
import numpy as np


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    """As srn_forward, with states[t] = tanh(W_xh @ inputs[t] + W_hh @ states[t-1])."""
    inputs = np.asarray(inputs, dtype=np.float64)  # (T, input)
    T, hidden = inputs.shape[0], W_hh.shape[0]
    h = np.zeros(hidden) if h0 is None else np.array(h0, dtype=np.float64)  # (hidden,)
    states = np.zeros((T, hidden))  # (T, hidden)
    for t in range(T):
        h = np.tanh(W_xh @ inputs[t] + W_hh @ h)  # (hidden,)
        states[t] = h
    outputs = states @ W_hy.T  # (T, output)
    return states, outputs
