"""Section 1: the simple recurrent network (SRN) in NumPy, no activation.

Column convention, as torch uses it:
    states[t]  = W_xh @ inputs[t] + W_hh @ states[t-1]      (states[-1] = h0)
    outputs[t] = W_hy @ states[t]
"""
import numpy as np


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    """Run the SRN over a sequence.

    inputs (T, input_size); W_xh (hidden, input); W_hh (hidden, hidden);
    W_hy (output, hidden); h0 (hidden,) or None for zeros.
    Returns states (T, hidden) and outputs (T, output). Arguments are not modified.
    """
    inputs = np.asarray(inputs, dtype=np.float64)  # (T, input)
    T, hidden = inputs.shape[0], W_hh.shape[0]
    h = np.zeros(hidden) if h0 is None else np.array(h0, dtype=np.float64)  # (hidden,)
    states = np.zeros((T, hidden))  # (T, hidden)
    for t in range(T):
        h = W_xh @ inputs[t] + W_hh @ h  # (hidden,)
        states[t] = h
    outputs = states @ W_hy.T  # (T, output)
    return states, outputs
