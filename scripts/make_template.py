"""Generate the student template and the example submission from the reference.

    python scripts/make_template.py          # writes student_template/hw8.ipynb and examples/reference/hw8.ipynb
    python scripts/make_template.py --check  # exits 1 if either committed notebook differs from a fresh one

The template keeps every public signature and docstring of the reference and replaces each
body with `raise NotImplementedError`; the example keeps the reference's code whole.
"""
import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reference import API, MODULES  # noqa: E402

TEMPLATE = ROOT / "student_template" / "hw8.ipynb"
EXAMPLE = ROOT / "examples" / "reference" / "hw8.ipynb"

INTRO = """# 神经网络与深度学习 作业8：RNN — 简单循环网络 / Homework 8: RNN, the simple recurrent network

**中文**：在每个 `raise NotImplementedError` 处写出你的实现，不要修改函数名和参数。演示、打印和长时间的训练请放在
`if __name__ == "__main__":` 之下：在 Jupyter 里它们照常运行，评分时会被跳过。每节最后一格调用 `hw8check.check(节号)`，
用作业中给出的数字检查你的代码（需先安装课程发放的自查工具包，见其 README）。在终端检查整个文件：`hw8-check hw8.ipynb --lang zh`。

**English**: fill in every `raise NotImplementedError`; do not rename functions or change their parameters. Put demos,
prints and long training runs under `if __name__ == "__main__":` — they run in Jupyter and are skipped at grading time.
The last cell of each section calls `hw8check.check(section)`, which checks your code against the homework's own numbers
(install the self-check kit your course hands out first; see its README; `lang="en"` gives English messages).
To check the whole file in a terminal: `hw8-check hw8.ipynb --lang en`.

Importable at grading time / 评分环境可导入的库: the standard library, `numpy`, `torch`, `matplotlib`, `tqdm`.
Other imports (course helpers, `d2l` ...) are skipped with a note in the loading report, and the rest still runs.
其他库（课程工具、`d2l` 等）的导入会被跳过并在加载报告中注明，其余代码照常运行。

Conventions / 约定: NumPy arrays are float64, torch tensors float32. Sections 1–3 use torch's column convention
`h_t = act(W_xh @ x_t + W_hh @ h_{t-1})`; section 4 keeps the original code's row convention `x @ W`.
There is no section 6 / 本作业没有第 6 节."""

SECTIONS = {
    1: """## 1. 使用 NumPy 实现 SRN / The SRN in NumPy

简单循环网络（SRN）只有一个隐藏层。实现 `srn_forward`：`states[t] = W_xh @ inputs[t] + W_hh @ states[t-1]`（`states[-1]` 为 `h0`，
`None` 表示全零），`outputs[t] = W_hy @ states[t]`。不要修改传入的数组。作业中权重全为 1、输入为 `[[1,1],[1,1],[2,2]]` 时，
输出为 4、12、32。

A simple recurrent network has a single hidden layer. Implement `srn_forward` with no activation, as above. Return
`states` (T, hidden) and `outputs` (T, output), and do not modify the arguments. With all weights 1 and inputs
`[[1,1],[1,1],[2,2]]` the homework prints outputs 4, 12, 32 and states 2, 6, 16.""",
    2: """## 2. 增加激活函数 tanh / Add the tanh activation

与第 1 节相同，但 `states[t] = tanh(W_xh @ inputs[t] + W_hh @ states[t-1])`。作业输出：1.9280551601516338、
1.9984510891336251、1.9999753470497836。

As section 1, with `states[t] = tanh(...)`. The homework prints outputs 1.9280551601516338, 1.9984510891336251 and
1.9999753470497836.""",
    3: """## 3. 使用 nn.RNNCell 与 nn.RNN / With nn.RNNCell and nn.RNN

`build_rnncell` 与 `build_rnn` 返回网络和线性层，所有权重为 1、偏置为 0（`nn.RNN` 不使用 batch_first）。`run_rnncell`
逐步调用 cell；`run_rnn` 一次处理整个序列。两者都返回 `hiddens` (T, batch, hidden) 和 `outputs = linear(hiddens)`。
作业输出：1.9281、1.9985、2.0000。

`build_rnncell`/`build_rnn` return the network and a linear layer with all weights 1 and all biases 0 (not
batch_first). `run_rnncell` steps the cell; `run_rnn` runs the whole sequence. Both return hiddens (T, batch, hidden)
and `outputs = linear(hiddens)`; `h0=None` means zeros. The homework prints 1.9281, 1.9985, 2.0000.""",
    4: """## 4. 分析“二进制加法”源代码 / The binary-addition RNN with hand-written BPTT

行向量约定：`h_t = sigmoid(x_t @ W_xh + h_{t-1} @ W_hh)`，`y_t = sigmoid(h_t @ W_hy)`，比特从最低位开始输入。
`W_xh, W_hh, W_hy` 即原代码的 synapse_0、synapse_h、synapse_1。`binary_adder_gradients` 用随时间反向传播（BPTT）
返回 `L = 0.5 * sum_t (c_t - y_t)^2` 对各权重的梯度 dL/dW（注意符号：原代码累加的是 -dL/dW）。`train_binary_adder`
按原代码做普通梯度下降，a、b 取自 [0, 2**(width-1))。

Row convention, bits least significant first. `binary_adder_gradients` returns dL/dW of
`L = 0.5 * sum_t (c_t - y_t)^2` by backpropagation through time (the original code accumulates -dL/dW). `int2binary`
gives the bits most significant first, as uint8. `add_binary` reads the rounded outputs back as an integer.""",
    5: """## 5. 字符级语言模型 / The character-level language model ("hello" -> "ohlol")

嵌入层 → 两层 `nn.RNN`（batch_first=True）→ 线性层。`forward` 从全零隐藏状态开始，返回 (batch*seq_len, num_class)
的 logits。`train_char_lm` 用 Adam 和交叉熵训练，`losses` 记录每个 epoch 前向计算得到的损失（即作业打印的值）；
`predict` 返回每个位置 argmax 对应的字符。

Embedding → 2-layer `nn.RNN` (batch_first) → Linear, with attributes `emb`, `rnn`, `fc`. `train_char_lm` trains
with Adam and cross-entropy and returns the model and one loss per epoch (the forward pass's loss, as the homework
prints it). Seed torch with `seed` so that runs repeat.""",
    7: """## 7. “编码器-解码器”的简单实现 / A simple encoder-decoder

`S` 为开始符，`E` 为结束符，`?` 为填充符。`make_data` 不得修改 `seq_data`。`Seq2Seq` 有 `encoder`、`decoder`
（均为 `nn.RNN`）和 `fc`。`train_seq2seq` 需要处理最后一个不足 batch_size 的批次。`translate` 在第一个 `E` 处截断并
去掉 `?`；若没有 `E`，使用整个解码串（原作业此时会抛出 ValueError）。

S starts, E ends, ? pads. `make_data` must not modify `seq_data`. `Seq2Seq` has `encoder` and `decoder` (both
`nn.RNN`) and `fc`. `train_seq2seq` must handle a last batch smaller than batch_size. `translate` cuts at the first
`E` and removes the padding; with no `E` it uses the whole decoded string.""",
}

DEMOS = {
    1: """if __name__ == "__main__":
    inputs = np.array([[1., 1.], [1., 1.], [2., 2.]])
    ones = np.ones((2, 2))
    states, outputs = srn_forward(inputs, ones, ones, ones)
    print("states:", states.tolist())    # homework: 2, 6, 16
    print("outputs:", outputs.tolist())  # homework: 4, 12, 32""",
    2: """if __name__ == "__main__":
    inputs = np.array([[1., 1.], [1., 1.], [2., 2.]])
    ones = np.ones((2, 2))
    states, outputs = srn_forward_tanh(inputs, ones, ones, ones)
    print("outputs:", outputs[:, 0].tolist())  # homework: 1.9280551601516338, 1.9984510891336251, 1.9999753470497836""",
    3: """if __name__ == "__main__":
    seq = torch.Tensor([[[1, 1]], [[1, 1]], [[2, 2]]])  # (T=3, batch=1, input=2)
    print("RNNCell:", run_rnncell(*build_rnncell(), seq)[1][:, 0, 0])  # homework: 1.9281, 1.9985, 2.0000
    print("RNN:    ", run_rnn(*build_rnn(), seq)[1][:, 0, 0])""",
    4: """if __name__ == "__main__":
    weights = train_binary_adder(iterations=10000, seed=0)
    for a, b in [(4, 73), (71, 11), (81, 113), (39, 17)]:
        print(f"{a} + {b} = {add_binary(weights, a, b)}")""",
    5: """if __name__ == "__main__":
    model, losses = train_char_lm(epochs=15, lr=0.05, seed=0)
    for epoch, loss in enumerate(losses):
        print("Epoch {}/15 loss={:.3f}".format(epoch + 1, loss))
    print(predict(model, "hello"))  # homework: ohlol""",
    7: """if __name__ == "__main__":
    model = train_seq2seq(epochs=1000, seed=0)
    for word in ['man', 'mans', 'king', 'black', 'up', 'old', 'high']:
        print(word, '->', translate(model, word))""",
}

# The student kit's in-notebook call (student_kit/hw8check): the same name in the kit and its README.
CHECK = """if __name__ == "__main__":
    try:
        import hw8check
    except ImportError:
        print("Install the self-check kit first / 请先安装自查工具包: pip install hw8_check-1.0.0-py3-none-any.whl")
    else:
        hw8check.check({n}, lang="zh")  # lang="en" for English"""

IMPORTS = """import copy

import numpy as np
import torch

torch.set_num_threads(1)  # small models run fastest on one thread"""


def _stub_body(node, lines):
    """The function's docstring (if any) and `raise NotImplementedError`."""
    indent = " " * (node.body[0].col_offset)
    doc = ast.get_docstring(node, clean=False)
    out = []
    if doc is not None:
        first = node.body[0]
        out.extend(lines[first.lineno - 1:first.end_lineno])
    out.append(f"{indent}# TODO: your code here / 在此写出你的代码")
    out.append(f"{indent}raise NotImplementedError")
    return out


def module_code(section, solutions):
    """The code cell of one section: the API names of the reference module, stubbed or whole."""
    path = ROOT / "reference" / f"{MODULES[section]}.py"
    src = path.read_text()
    lines = src.splitlines()
    tree = ast.parse(src)
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue  # the notebook's first cell imports numpy and torch
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring; the markdown cell explains the section
        names = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        name = getattr(node, "name", names[0] if names else None)
        public = name in API[section]
        if solutions or (isinstance(node, ast.Assign) and public):
            out.extend(lines[node.lineno - 1 - len(getattr(node, "decorator_list", [])):node.end_lineno])
        elif public and isinstance(node, ast.FunctionDef):
            out.extend(lines[node.lineno - 1:node.body[0].lineno - 1])  # the def line(s)
            out.extend(_stub_body(node, lines))
        elif public and isinstance(node, ast.ClassDef):
            out.extend(lines[node.lineno - 1:node.body[0].lineno - 1])
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    out.extend(lines[item.lineno - 1:item.body[0].lineno - 1])
                    out.extend(_stub_body(item, lines))
                    out.append("")
            out.pop()
        else:
            continue
        out.extend(["", ""])
    return "\n".join(out).strip() + "\n"


def build(solutions):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    cells = [nbformat.v4.new_markdown_cell(INTRO), nbformat.v4.new_code_cell(IMPORTS)]
    for n in MODULES:
        cells.append(nbformat.v4.new_markdown_cell(SECTIONS[n]))
        cells.append(nbformat.v4.new_code_cell(module_code(n, solutions).rstrip("\n")))
        cells.append(nbformat.v4.new_code_cell(DEMOS[n]))
        cells.append(nbformat.v4.new_code_cell(CHECK.format(n=n)))
    for i, cell in enumerate(cells):
        cell["id"] = f"hw8-{i:02d}"  # stable ids, so a fresh generation is byte-identical
    nb.cells = cells
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed notebooks are stale")
    args = parser.parse_args(argv)
    stale = []
    for path, solutions in [(TEMPLATE, False), (EXAMPLE, True)]:
        text = build(solutions)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print("wrote", path.relative_to(ROOT))
    if stale:
        print("stale (run `make template`):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
