"""Section 7: the encoder-decoder (25 points by default)."""
import numpy as np
from .marks import number, tags, visibility, weight

from ..homework import LETTERS, SEQ_DATA
from ..wire import ModuleValue
from .. import probe_ids as P
from ..evidence import CheckFailed
from .common import (all_pass, describe, expect_all_unmodified, expect_tensor, fail, require_follows_inputs,
                     require_follows_arguments, require_real_training, require_trains_at_another_seed, unpack)
from .models import check_logits, check_text_answer, expect_module, expect_state


def check_make_data(evidence, pid):
    p = evidence.probe(pid)
    enc, dec_in, dec_out = unpack(evidence.answer(pid), ["enc_input", "dec_input", "dec_output"], "make_data")
    want = list(evidence.expected(pid))
    expect_tensor(enc, "enc_input", want[0].shape)
    expect_tensor(dec_in, "dec_input", want[1].shape)
    expect_tensor(dec_out, "dec_output", want[2].shape, dtype="int64")
    words = [pair for pair in p.args[0]]
    for name, got, exp in (("enc_input", enc.array, want[0]), ("dec_input", dec_in.array, want[1]),
                           ("dec_output", dec_out.array, want[2])):
        if not np.array_equal(got, exp):
            i = int(np.argwhere(np.any((got != exp).reshape(len(words), -1), axis=1))[0][0])
            shown = lambda arr: "".join(LETTERS[j] if 0 <= j < len(LETTERS) else f"<{j}>"  # a student's index may be any
                                        for j in (arr.argmax(-1) if arr.ndim == 2 else arr).tolist())
            fail(f"make_data: {name} for {words[i]} (n_step={p.kwargs.get('n_step', 5)}) should encode "
                 f"{shown(exp[i])!r}, but encodes {shown(got[i]) if np.isfinite(got[i]).all() else 'something else'!r}.",
                 f"make_data：{words[i]}（n_step={p.kwargs.get('n_step', 5)}）的 {name} 应编码为 {shown(exp[i])!r}，"
                 f"实际为 {shown(got[i]) if np.isfinite(got[i]).all() else '其他内容'!r}。")


def check_forward(evidence, pid):
    check_logits(evidence, pid, "s7.forward", "Seq2Seq.forward(...)")


def check_translate(evidence, pid):
    p = evidence.probe(pid)
    n_step = f", n_step={p.kwargs['n_step']}" if "n_step" in p.kwargs else ""
    check_text_answer(evidence, pid, f"translate(model, {p.args[1]!r}{n_step})")


@weight(4)
@number("7.1")
@visibility("visible")
@tags("torch", "seq2seq")
def test_make_data_homework(evidence):
    """make_data(SEQ_DATA) encodes the homework's six pairs
    make_data(SEQ_DATA) 正确编码作业中的六组词"""
    check_make_data(evidence, "s7.data.hw")
    require_follows_inputs(evidence, evidence.ids("s7.data.rand"), "make_data")


@weight(8)  # 10 before issue 17: one moved to 7.7 (the student's translate on the trained model), one to 7.8
@number("7.2")
@visibility("visible")
@tags("torch", "seq2seq", "training")
def test_training(evidence):
    """train_seq2seq learns all six translations, man -> women ... (re-checked by the grader)
    train_seq2seq 学会全部六个翻译，man -> women 等（由评分器重新计算）"""
    _judge_seq2seq(evidence, "s7.train")
    require_real_training(evidence, "s7", "train_seq2seq", _seq2seq_untrained)
    require_trains_at_another_seed(evidence, "s7", "train_seq2seq", _judge_seq2seq)


def _judge_seq2seq(evidence, pid):
    """The training criterion, for the graded training (pid "s7.train") and the same at another seed."""
    p = evidence.probe(pid)
    model = evidence.answer(pid)
    if not isinstance(model, ModuleValue):
        fail(f"train_seq2seq should return the trained model, but returned {describe(model)}.",
             f"train_seq2seq 应返回训练好的模型，实际返回 {describe(model)}。")
    for name in ("encoder", "decoder"):
        if name not in model.children:
            fail(f"The model has no attribute self.{name}; the homework's Seq2Seq has encoder, decoder and fc.",
                 f"模型没有属性 self.{name}；作业中的 Seq2Seq 有 encoder、decoder 和 fc。")
        expect_module(model.children[name], "RNN", f"model.{name}", {"input_size": 29, "hidden_size": 128})
    state = expect_state(evidence, "Seq2Seq", model, "the trained model")
    got = evidence.oracle.translations(evidence, pid, state)
    wrong = [f"{w} -> {got[w]!r} (should be {t!r})" for w, t in SEQ_DATA if got[w] != t]
    if wrong:
        ep, seed = p.kwargs["epochs"], p.kwargs["seed"]
        fail(f"After train_seq2seq(epochs={ep}, seed={seed}), {6 - len(wrong)}/6 words translate correctly; wrong: "
             f"{'; '.join(wrong)}. The reference gets 6/6 for every seed 0-19 at this budget (reference/BUDGETS.md).",
             f"train_seq2seq(epochs={ep}, seed={seed}) 训练后，6 个词中只有 {6 - len(wrong)} 个翻译正确；错误：{'; '.join(wrong)}。"
             f"参考实现在此预算下对种子 0-19 均为 6/6（见 reference/BUDGETS.md）。")


def _seq2seq_untrained(evidence, pid):
    model = evidence.answer(pid)
    if not isinstance(model, ModuleValue):
        return True, ""
    try:
        got = evidence.oracle.translations(evidence, pid, expect_state(evidence, "Seq2Seq", model, "model"))
    except CheckFailed:
        return True, ""
    right = sum(got[w] == t for w, t in SEQ_DATA)
    return right < len(SEQ_DATA), f"{right}/6 translations right"


@weight(2)
@number("7.3")
@visibility("after_published")
@tags("torch", "seq2seq")
def test_make_data_random(evidence):
    """make_data on random words and n_step
    make_data 在随机单词和 n_step 上的结果"""
    all_pass(evidence, check_make_data, evidence.ids("s7.data.rand"))


@weight(4)
@number("7.4")
@visibility("after_published")
@tags("torch", "seq2seq")
def test_forward_random(evidence):
    """Seq2Seq.forward matches the reference with the grader's weights and random inputs
    Seq2Seq.forward 使用评分器给出的权重，在随机输入上与参考答案一致"""
    all_pass(evidence, check_forward, evidence.ids("s7.forward.rand"))


@weight(4)
@number("7.5")
@visibility("after_published")
@tags("torch", "seq2seq")
def test_translate_random(evidence):
    """translate decodes greedily, cuts at 'E' and drops '?', with the grader's weights
    translate 使用评分器给出的权重：贪心解码，在 'E' 处截断并去掉 '?'"""
    all_pass(evidence, check_translate, evidence.ids("s7.translate.rand"))


@weight(1)  # non-mutation: 4% of the section, its own small check (the homework's make_data pads in place)
@number("7.6")
@visibility("after_published")
@tags("torch", "seq2seq")
def test_arguments_unmodified(evidence):
    """make_data leaves its word pairs unchanged (the homework's version pads them in place)
    make_data 不修改传入的词对（作业原代码会就地填充）"""
    expect_all_unmodified(evidence, ["s7.data.hw"] + evidence.ids("s7.data.rand"))
    require_follows_inputs(evidence, evidence.ids("s7.data.rand"), "make_data")  # a constant modifies nothing


@weight(1)
@number("7.7")
@visibility("visible")
@tags("torch", "seq2seq")
def test_translate_on_trained_model(evidence):
    """Your translate on your trained model gives that model's translations of the homework's six words
    你的 translate 在你训练好的模型上给出该模型对作业中六个词的翻译"""
    # Its own check (issue 17): a broken translate costs the translate checks, never the training check, and a failed
    # training costs 7.2, not this one: the answers are compared with the grader's decoding of the same model.
    model = evidence.answer("s7.train")
    if not isinstance(model, ModuleValue):
        fail(f"train_seq2seq returned no model to translate with ({describe(model)}); see 7.2.",
             f"train_seq2seq 没有返回可用于翻译的模型（{describe(model)}）；见 7.2。")
    want = evidence.oracle.translations(evidence, "s7.train", expect_state(evidence, "Seq2Seq", model, "the trained model"))
    own = {w: evidence.answer(P.translate_trained(w)) for w, _ in SEQ_DATA}
    wrong = [f"{w} -> {own[w]!r} (that model translates it {want[w]!r})" for w, _ in SEQ_DATA if own[w] != want[w]]
    if wrong:
        fail(f"Your translate on your trained model differs from the grader's decoding of that model on "
             f"{len(wrong)}/6 words: {'; '.join(wrong)}.",
             f"你的 translate 在你训练好的模型上与评分器对该模型的解码有 {len(wrong)}/6 个词不同：{'; '.join(wrong)}。")


@weight(1)
@number("7.8")
@visibility("visible")
@tags("torch", "seq2seq", "training")
def test_training_follows_its_arguments(evidence):
    """train_seq2seq runs at a tiny budget and follows its seed, lr, batch_size and seq_data there
    train_seq2seq 在极小预算下也能运行，并遵循 seed、lr、batch_size 与 seq_data"""
    # Its own small check (issue 17): a training that breaks only these keeps the training marks of 7.2
    require_follows_arguments(evidence, "s7", "train_seq2seq")
