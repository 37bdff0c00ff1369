"""Section 3: nn.RNNCell and nn.RNN (15 points by default)."""
import numpy as np
from .marks import number, tags, visibility, weight

from .. import probe_ids as P
from .common import all_pass, expect_all_unmodified, expect_close, expect_tensor, fail, require_follows_inputs, unpack
from .models import expect_module, expect_torch_shapes

HW_OUTPUTS = np.array([1.9281, 1.9985, 2.0000])  # printed with 4 decimals: compared to within 5e-5
HW_HIDDEN = np.array([0.9640, 0.9992])  # the printed hidden before steps 2 and 3
HW_SEQ = [[[1.0, 1.0]], [[1.0, 1.0]], [[2.0, 2.0]]]  # the homework's seq, (T=3, batch=1, 2)


def check_build(evidence, pid):
    p = evidence.probe(pid)
    kind = "RNNCell" if p.fn == "build_rnncell" else "RNN"
    sizes = dict(zip(["input_size", "hidden_size", "output_size"], p.args or [2, 2, 2]))
    net, linear = unpack(evidence.answer(pid), [kind.lower(), "linear"], p.fn)
    # The homework's SRN: tanh, with biases (set to 0), one direction.
    config = {"input_size": sizes["input_size"], "hidden_size": sizes["hidden_size"], "nonlinearity": "tanh",
              "bias": True}
    if kind == "RNN":
        config.update(num_layers=p.kwargs.get("num_layers", 1), batch_first=False, bidirectional=False)
    expect_module(net, kind, kind.lower(), config)
    expect_module(linear, "Linear", "linear", {"in_features": sizes["hidden_size"], "out_features": sizes["output_size"]})
    expect_torch_shapes(net, kind, kind.lower())
    expect_torch_shapes(linear, "Linear", "linear")
    for owner, module in ((kind.lower(), net), ("linear", linear)):
        for key, tensor in module.state.items():
            if not hasattr(tensor, "array"):
                continue
            want = 1.0 if key.startswith("weight") else 0.0
            if tensor.array.size == 0 or not np.all(tensor.array == want):
                fail(f"{owner}.{key} should be all {want:g}, as in the homework.", f"{owner}.{key} 应全为 {want:g}（与作业一致）。")
    if not any(k.startswith("weight") for k in net.state):
        fail(f"{kind.lower()} has no weights.", f"{kind.lower()} 没有权重。")
    if evidence.probe(pid).role == P.HOMEWORK:
        run_built_on_homework(evidence, kind, net, linear)


def run_built_on_homework(evidence, kind, net, linear):
    """The modules the student built, run on the homework's sequence: 1.9281, 1.9985, 2.0000.

    The grader runs them with the reference. The student kit cannot (it holds no reference) and
    returns None: the checks above already fix every weight, bias and setting of these modules,
    so their outputs follow; the grader's run is a second line of defence.
    """
    outputs = evidence.oracle.run_built(kind, net, linear, HW_SEQ)
    if outputs is None:
        return
    expect_close(np.asarray(outputs)[:, 0, 0], HW_OUTPUTS, 5e-5, f"the built {kind}'s outputs[:, 0, 0]",
                 " on the homework's sequence", "（作业的输入序列）")


def check_run(evidence, pid):
    p = evidence.probe(pid)
    hiddens, outputs = unpack(evidence.answer(pid), ["hiddens", "outputs"], p.fn)
    want_h, want_o = evidence.expected(pid)
    expect_tensor(hiddens, "hiddens", want_h.shape)
    expect_tensor(outputs, "outputs", want_o.shape)
    tol = evidence.tol("s3.cell" if p.fn == "run_rnncell" else "s3.rnn")
    expect_close(hiddens.array, want_h, tol, "hiddens")
    expect_close(outputs.array, want_o, tol, "outputs")
    return hiddens.array, outputs.array


def check_homework_run(evidence, pid, fn):
    hiddens, outputs = check_run(evidence, pid)
    ctx = (" with the homework's sequence [[1,1]],[[1,1]],[[2,2]]", "（作业的输入序列）")
    expect_close(outputs[:, 0, 0], HW_OUTPUTS, 5e-5, "outputs[:, 0, 0]", *ctx)
    expect_close(hiddens[:2, 0, 0], HW_HIDDEN, 5e-5, "hiddens[:2, 0, 0]", *ctx)
    require_follows_inputs(evidence, evidence.ids(f"s3.{'cell' if fn == 'run_rnncell' else 'rnn'}.rand"), fn)


@weight(2)
@number("3.1")
@visibility("visible")
@tags("torch", "rnn")
def test_build_homework_sizes(evidence):
    """build_rnncell() and build_rnn() give the homework's networks: weights 1, biases 0
    build_rnncell() 与 build_rnn() 构造作业中的网络：权重为 1，偏置为 0"""
    check_build(evidence, "s3.build_cell.hw")
    check_build(evidence, "s3.build_rnn.hw")
    require_follows_inputs(evidence, ["s3.build_cell.hw", "s3.build_cell.rand"], "build_rnncell")
    require_follows_inputs(evidence, ["s3.build_rnn.hw", "s3.build_rnn.rand"], "build_rnn")


@weight(2)
@number("3.2")
@visibility("visible")
@tags("torch", "rnn")
def test_rnncell_homework(evidence):
    """run_rnncell reproduces the homework's outputs 1.9281, 1.9985, 2.0000
    run_rnncell 复现作业输出 1.9281、1.9985、2.0000"""
    check_homework_run(evidence, "s3.cell.hw", "run_rnncell")


@weight(2)
@number("3.3")
@visibility("visible")
@tags("torch", "rnn")
def test_rnn_homework(evidence):
    """run_rnn reproduces the homework's outputs 1.9281, 1.9985, 2.0000
    run_rnn 复现作业输出 1.9281、1.9985、2.0000"""
    check_homework_run(evidence, "s3.rnn.hw", "run_rnn")


@weight(2)
@number("3.4")
@visibility("after_published")
@tags("torch", "rnn")
def test_build_random_sizes(evidence):
    """build_rnncell and build_rnn honour random sizes and num_layers
    build_rnncell 与 build_rnn 支持随机的尺寸和层数"""
    check_build(evidence, "s3.build_cell.rand")
    check_build(evidence, "s3.build_rnn.rand")


@weight(3)
@number("3.5")
@visibility("after_published")
@tags("torch", "rnn")
def test_rnncell_random(evidence):
    """run_rnncell matches the reference on random weights, sizes, batches and h0
    run_rnncell 在随机权重、尺寸、批量和 h0 上与参考答案一致"""
    all_pass(evidence, check_run, evidence.ids("s3.cell.rand"))


@weight(3)
@number("3.6")
@visibility("after_published")
@tags("torch", "rnn")
def test_rnn_random(evidence):
    """run_rnn matches the reference on random weights, sizes, layers and h0
    run_rnn 在随机权重、尺寸、层数和 h0 上与参考答案一致"""
    all_pass(evidence, check_run, evidence.ids("s3.rnn.rand"))


@weight(1)
@number("3.7")
@visibility("after_published")
@tags("torch", "rnn")
def test_arguments_unmodified(evidence):
    """run_rnncell and run_rnn leave inputs and h0 unchanged
    run_rnncell 与 run_rnn 不修改输入和 h0"""
    expect_all_unmodified(evidence, evidence.ids("s3.cell.") + evidence.ids("s3.rnn."))
    # a constant modifies nothing: no credit
    require_follows_inputs(evidence, evidence.ids("s3.cell.rand"), "run_rnncell")
    require_follows_inputs(evidence, evidence.ids("s3.rnn.rand"), "run_rnn")
