"""The reference reproduces every number the homework prints, and agrees with torch autograd.

Printed numbers come from ../shared/seed/000_28725d908f1161a5.txt (the homework's "运行结果").
"""
import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import reference as R
from grader.criteria import PASS_ACCURACY, binary_adder_accuracy, char_lm_loss

BUDGETS = json.loads((Path(R.__file__).parent / "budgets.json").read_text())
HW_INPUTS = np.array([[1., 1.], [1., 1.], [2., 2.]])
ONES = np.ones((2, 2))


def test_s1_homework_numbers():
    states, outputs = R.srn_forward(HW_INPUTS, ONES, ONES, ONES)
    np.testing.assert_array_equal(states, [[2, 2], [6, 6], [16, 16]])
    np.testing.assert_array_equal(outputs, [[4, 4], [12, 12], [32, 32]])
    assert states.dtype == outputs.dtype == np.float64


def test_s2_homework_numbers():
    states, outputs = R.srn_forward_tanh(HW_INPUTS, ONES, ONES, ONES)
    printed_y = [1.9280551601516338, 1.9984510891336251, 1.9999753470497836]
    printed_h = [0.9640275800758169, 0.9992255445668126]  # the printed state_t before steps 2 and 3
    np.testing.assert_allclose(outputs[:, 0], printed_y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs[:, 1], printed_y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(states[:2, 0], printed_h, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["cell", "rnn"])
def test_s3_homework_numbers(kind):
    seq = torch.tensor(HW_INPUTS, dtype=torch.float32)[:, None, :]  # (3, 1, 2)
    if kind == "cell":
        hiddens, outputs = R.run_rnncell(*R.build_rnncell(), seq)
    else:
        hiddens, outputs = R.run_rnn(*R.build_rnn(), seq)
    assert outputs.shape == (3, 1, 2) and hiddens.shape == (3, 1, 2)
    # printed with 4 decimals, so agree to half a unit in the last place
    np.testing.assert_allclose(outputs[:, 0, :].detach().numpy(), [[1.9281] * 2, [1.9985] * 2, [2.0000] * 2], atol=5e-5)
    np.testing.assert_allclose(hiddens[:2, 0, :].detach().numpy(), [[0.9640] * 2, [0.9992] * 2], atol=5e-5)


def test_s3_homework_bias_shape_is_equivalent():
    """The homework sets liner.bias to shape (1,); it broadcasts to the same outputs."""
    cell, linear = R.build_rnncell()
    seq = torch.tensor(HW_INPUTS, dtype=torch.float32)[:, None, :]
    _, expected = R.run_rnncell(cell, linear, seq)
    linear.bias.data = torch.Tensor([0.0])
    _, got = R.run_rnncell(cell, linear, seq)
    assert torch.equal(expected, got)


def _torch_linear_srn(x, W_xh, W_hh, W_hy, h0):
    """Closed form of the linear SRN: h_t = sum_k W_hh^(t-k) W_xh x_k + W_hh^(t+1) h0."""
    T = x.shape[0]
    states = []
    for t in range(T):
        h = torch.linalg.matrix_power(W_hh, t + 1) @ h0
        for k in range(t + 1):
            h = h + torch.linalg.matrix_power(W_hh, t - k) @ (W_xh @ x[k])
        states.append(h)
    states = torch.stack(states)
    return states, states @ W_hy.T


@pytest.mark.parametrize("seed", range(5))
def test_s1_s2_against_torch_float64(seed):
    rng = np.random.default_rng(seed)
    T, I, H, O = rng.integers(1, 7), rng.integers(1, 5), rng.integers(1, 6), rng.integers(1, 4)
    x, Wxh, Whh, Why, h0 = (rng.normal(size=s) * 0.5 for s in [(T, I), (H, I), (H, H), (O, H), (H,)])
    t = [torch.tensor(a, dtype=torch.float64) for a in (x, Wxh, Whh, Why, h0)]
    states, outputs = R.srn_forward(x, Wxh, Whh, Why, h0)
    ts, to = _torch_linear_srn(*t)
    np.testing.assert_allclose(states, ts.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(outputs, to.numpy(), rtol=1e-12, atol=1e-12)

    rnn = torch.nn.RNN(int(I), int(H), nonlinearity="tanh", bias=False).double()
    rnn.weight_ih_l0.data, rnn.weight_hh_l0.data = t[1], t[2]
    th, _ = rnn(t[0][:, None, :], t[4][None, None, :])
    states, outputs = R.srn_forward_tanh(x, Wxh, Whh, Why, h0)
    np.testing.assert_allclose(states, th[:, 0].detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(outputs, (th[:, 0] @ t[3].T).detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_s3_run_functions_match_each_other(seed):
    """RNNCell stepped by hand and RNN run at once agree when they share weights."""
    g = torch.Generator().manual_seed(seed)
    I, H, O, B, T = 3, 4, 2, 2, 5
    cell, lin = R.build_rnncell(I, H, O)
    rnn, _ = R.build_rnn(I, H, O)
    for p in list(cell.parameters()) + list(lin.parameters()):
        p.data = torch.randn(p.shape, generator=g)
    rnn.weight_ih_l0.data, rnn.weight_hh_l0.data = cell.weight_ih.data, cell.weight_hh.data
    rnn.bias_ih_l0.data, rnn.bias_hh_l0.data = cell.bias_ih.data, cell.bias_hh.data
    x, h0 = torch.randn(T, B, I, generator=g), torch.randn(B, H, generator=g)
    a = R.run_rnncell(cell, lin, x, h0)
    b = R.run_rnn(rnn, lin, x, h0[None])
    torch.testing.assert_close(a[0], b[0])
    torch.testing.assert_close(a[1], b[1])


def test_s4_int2binary_roundtrip():
    for n in range(256):
        bits = R.int2binary(n)
        assert bits.dtype == np.uint8 and bits.shape == (8,)
        assert R.binary2int(bits) == n
    np.testing.assert_array_equal(R.int2binary(73), [0, 1, 0, 0, 1, 0, 0, 1])  # the homework's np.unpackbits


def _random_weights(rng, H):
    return {"W_xh": rng.normal(size=(2, H)), "W_hh": rng.normal(size=(H, H)), "W_hy": rng.normal(size=(H, 1))}


def _loss(weights, a, b):
    _, y = R.binary_adder_forward(weights, a, b)
    c = R.int2binary(a + b)[::-1]
    return 0.5 * np.sum((c - y) ** 2)


@pytest.mark.parametrize("seed", range(4))
def test_s4_gradients_against_finite_differences(seed):
    """min-char-rnn's gradient check: central differences against the analytic BPTT gradient."""
    rng = np.random.default_rng(seed)
    w = _random_weights(rng, 5)
    a, b = rng.integers(0, 128, size=2)
    grads = R.binary_adder_gradients(w, a, b)
    eps = 1e-6
    for k in w:
        num = np.zeros_like(w[k])
        for idx in np.ndindex(w[k].shape):
            wp, wm = copy.deepcopy(w), copy.deepcopy(w)
            wp[k][idx] += eps
            wm[k][idx] -= eps
            num[idx] = (_loss(wp, a, b) - _loss(wm, a, b)) / (2 * eps)
        np.testing.assert_allclose(grads[k], num, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_s4_gradients_against_torch_autograd(seed):
    rng = np.random.default_rng(seed)
    w = _random_weights(rng, 7)
    a, b = rng.integers(0, 128, size=2)
    tw = {k: torch.tensor(v, requires_grad=True) for k, v in w.items()}
    h = torch.zeros(1, 7, dtype=torch.float64)
    loss = 0
    for t in range(8):
        x = torch.tensor([[(a >> t) & 1, (b >> t) & 1]], dtype=torch.float64)
        h = torch.sigmoid(x @ tw["W_xh"] + h @ tw["W_hh"])
        y = torch.sigmoid(h @ tw["W_hy"])
        loss = loss + 0.5 * (((a + b) >> t & 1) - y) ** 2
    loss.sum().backward()
    grads = R.binary_adder_gradients(w, a, b)
    for k in w:
        np.testing.assert_allclose(grads[k], tw[k].grad.numpy(), rtol=1e-10, atol=1e-13)
    hidden, y = R.binary_adder_forward(w, a, b)
    assert hidden.shape == (9, 7) and y.shape == (8,) and not hidden[0].any()


def test_s4_training_reaches_the_budget_criterion():
    w = R.train_binary_adder(iterations=BUDGETS["binary_adder_iterations"]["budget"], seed=0)
    assert binary_adder_accuracy(w) >= PASS_ACCURACY
    assert R.add_binary(w, 100, 27) == 127
    assert set(w) == {"W_xh", "W_hh", "W_hy"} and w["W_hh"].shape == (16, 16)


def test_s5_homework_run_reaches_loss_and_ohlol():
    torch.set_num_threads(1)
    model, losses = R.train_char_lm(epochs=15, lr=0.05, seed=0)
    assert len(losses) == 15 and losses[-1] < 0.05
    assert R.predict(model) == "ohlol"
    logits = model(torch.LongTensor([[1, 0, 2, 2, 3]]))
    assert logits.shape == (5, 4)
    model, losses = R.train_char_lm(epochs=BUDGETS["char_lm_epochs"]["budget"], seed=1)
    assert losses[-1] < 0.05 and char_lm_loss(model) < 0.05 and R.predict(model) == "ohlol"


def test_s7_make_data_layout_and_no_mutation():
    data = [['man', 'women'], ['up', 'down']]
    before = copy.deepcopy(data)
    enc, dec_in, dec_out = R.make_data(data)
    assert data == before
    assert enc.shape == dec_in.shape == (2, 6, 29) and dec_out.shape == (2, 6)
    assert enc.dtype == torch.float32 and dec_out.dtype == torch.int64
    L = R.LETTERS
    assert ''.join(L[i] for i in enc[0].argmax(1)) == 'man??E'
    assert ''.join(L[i] for i in dec_in[0].argmax(1)) == 'Swomen'
    assert ''.join(L[i] for i in dec_out[1]) == 'down?E'
    assert torch.all(enc.sum(-1) == 1)


def test_s7_translations_at_budget():
    torch.set_num_threads(1)
    model = R.train_seq2seq(epochs=BUDGETS["seq2seq_epochs"]["budget"], seed=0)
    for word, target in R.SEQ_DATA:
        assert R.translate(model, word) == target
    logits = model(*(lambda e, d, _: (e[:2], torch.zeros(1, 2, 128), d[:2]))(*R.make_data(R.SEQ_DATA)))
    assert logits.shape == (6, 2, 29)


def test_s7_small_last_batch_and_translate_without_E():
    model = R.train_seq2seq(epochs=2, batch_size=4, seed=0)  # 6 words: batches of 4 and 2
    for p in model.fc.parameters():
        p.data.zero_()
    model.fc.bias.data[R.LETTERS.index('a')] = 1.0  # always 'a', never 'E'
    assert R.translate(model, 'man') == 'aaaaaa'


def test_nothing_mutates_its_inputs():
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s) for s in [(4, 3), (5, 3), (5, 5), (2, 5), (5,)]]
    saved = [a.copy() for a in args]
    R.srn_forward(*args)
    R.srn_forward_tanh(*args)
    for a, s in zip(args, saved):
        np.testing.assert_array_equal(a, s)
    w = _random_weights(rng, 4)
    saved = copy.deepcopy(w)
    R.binary_adder_forward(w, 5, 9)
    R.binary_adder_gradients(w, 5, 9)
    R.add_binary(w, 5, 9)
    for k in w:
        np.testing.assert_array_equal(w[k], saved[k])
    cell, lin = R.build_rnncell(3, 4, 2)
    x, h0 = torch.randn(5, 2, 3), torch.randn(2, 4)
    xs, hs = x.clone(), h0.clone()
    R.run_rnncell(cell, lin, x, h0)
    rnn, lin = R.build_rnn(3, 4, 2)
    R.run_rnn(rnn, lin, x, h0[None])
    assert torch.equal(x, xs) and torch.equal(h0, hs)


def test_the_homework_data_the_kit_ships_is_the_references():
    """grader/homework.py spells the homework's data for the checks and the student kit; it must be the reference's."""
    from hw8core import homework
    from reference import s5_char_lm, s7_seq2seq
    assert homework.SECTIONS == tuple(R.API) == tuple(R.MODULES)
    assert homework.LETTERS == R.LETTERS and homework.SEQ_DATA == R.SEQ_DATA and homework.IDX2CHAR == R.IDX2CHAR
    assert (homework.X_TEXT, homework.Y_TEXT) == (s5_char_lm.X_TEXT, s5_char_lm.Y_TEXT)
    assert s7_seq2seq.LETTERS == homework.LETTERS
    assert homework.HW_INPUTS.tolist() == [[1, 1], [1, 1], [2, 2]] and homework.ONES.tolist() == [[1, 1], [1, 1]]
