"""Section 3: the SRN with torch.nn.RNNCell and torch.nn.RNN.

Both use h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), then y_t = Linear(h_t).
The homework sets every weight to 1 and every bias to 0.
"""
import torch


def _ones_and_zeros(*modules):
    for module in modules:
        for name, param in module.named_parameters():
            if name.startswith("weight"):
                torch.nn.init.ones_(param)
            else:
                torch.nn.init.zeros_(param)


def build_rnncell(input_size=2, hidden_size=2, output_size=2):
    """Return (cell, linear): an nn.RNNCell and an nn.Linear, all weights 1 and biases 0."""
    cell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size)
    linear = torch.nn.Linear(hidden_size, output_size)
    _ones_and_zeros(cell, linear)
    return cell, linear


def run_rnncell(cell, linear, inputs, h0=None):
    """Step the cell over inputs (T, batch, input); h0 (batch, hidden) or None for zeros.

    Returns hiddens (T, batch, hidden) and outputs (T, batch, output) = linear(hiddens).
    """
    T, batch = inputs.shape[0], inputs.shape[1]
    h = torch.zeros(batch, cell.hidden_size) if h0 is None else h0  # (batch, hidden)
    hiddens = []
    for t in range(T):
        h = cell(inputs[t], h)  # (batch, hidden)
        hiddens.append(h)
    hiddens = torch.stack(hiddens)  # (T, batch, hidden)
    return hiddens, linear(hiddens)  # (T, batch, output)


def build_rnn(input_size=2, hidden_size=2, output_size=2, num_layers=1):
    """Return (rnn, linear): an nn.RNN (not batch_first) and an nn.Linear, weights 1, biases 0."""
    rnn = torch.nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
    linear = torch.nn.Linear(hidden_size, output_size)
    _ones_and_zeros(rnn, linear)
    return rnn, linear


def run_rnn(rnn, linear, inputs, h0=None):
    """Run the whole sequence at once; h0 (num_layers, batch, hidden) or None for zeros.

    Returns hiddens (T, batch, hidden), the top layer at each step, and linear(hiddens).
    """
    batch = inputs.shape[1]
    if h0 is None:
        h0 = torch.zeros(rnn.num_layers, batch, rnn.hidden_size)  # (layers, batch, hidden)
    hiddens, _ = rnn(inputs, h0)  # (T, batch, hidden)
    return hiddens, linear(hiddens)  # (T, batch, output)
