"""Section 5: the character-level language model, "hello" -> "ohlol" (20 points by default)."""
import math

import numpy as np
from .marks import number, tags, visibility, weight

from ..wire import ModuleValue, TensorValue
from .. import probe_ids as P
from ..evidence import CheckFailed
from .common import (all_pass, describe, fail, require_follows_arguments, require_real_training,
                     require_trains_at_another_seed, unpack)
from .models import check_logits, check_text_answer, expect_module, expect_state

LOSS_THRESHOLD = 0.05  # the homework's target: "loss < 0.05"


def as_sequence(value):
    """A 1-D sequence as a list of numbers, or None: lists and tuples as they are, 1-D arrays and tensors."""
    if isinstance(value, (list, tuple)):  # 0-d tensors (loss without .item()) count as their number
        return [float(v.array.reshape(-1)[0]) if isinstance(v, TensorValue) and v.array.size == 1
                and v.array.dtype.kind == "f" else v for v in value]
    array = value.array if isinstance(value, TensorValue) else value
    if isinstance(array, np.ndarray) and array.ndim == 1 and array.dtype.kind in "iuf":
        return [float(x) for x in array]
    return None


def check_structure(evidence, pid):
    sizes = {"num_class": 4, "embedding_size": 10, "hidden_size": 8, "num_layers": 2, **evidence.probe(pid).kwargs}
    call = "CharRNN(" + ", ".join(f"{k}={v}" for k, v in evidence.probe(pid).kwargs.items()) + ")"
    C, E, H, L = (sizes[k] for k in ("num_class", "embedding_size", "hidden_size", "num_layers"))
    model = evidence.answer(pid)
    if not isinstance(model, ModuleValue):
        fail(f"{call} should build a torch.nn.Module, but gave {describe(model)}.",
             f"{call} 应构造一个 torch.nn.Module，实际得到 {describe(model)}。")
    for name, cls, config in (("emb", "Embedding", {"num_embeddings": C, "embedding_dim": E}),
                              ("rnn", "RNN", {"input_size": E, "hidden_size": H, "num_layers": L, "batch_first": True}),
                              ("fc", "Linear", {"in_features": H, "out_features": C})):
        if name not in model.children:
            fail(f"CharRNN has no attribute self.{name}; the homework's model has emb, rnn and fc.",
                 f"CharRNN 没有属性 self.{name}；作业中的模型有 emb、rnn 和 fc。")
        expect_module(model.children[name], cls, f"{call}.{name}", config)
    if not evidence.probe(pid).kwargs:
        expect_state(evidence, "CharRNN", model, call)


def check_forward(evidence, pid):
    check_logits(evidence, pid, "s5.forward", "CharRNN.forward(x)")


def check_predict(evidence, pid):
    check_text_answer(evidence, pid, f"predict(model, {evidence.probe(pid).args[1]!r})")


@weight(3)
@number("5.1")
@visibility("visible")
@tags("torch", "char-lm")
def test_model_structure(evidence):
    """CharRNN() has the homework's layers: Embedding(4, 10), 2-layer RNN(10, 8, batch_first), Linear(8, 4)
    CharRNN() 具有作业中的层：Embedding(4, 10)、两层 RNN(10, 8, batch_first)、Linear(8, 4)"""
    check_structure(evidence, "s5.model.hw")
    if evidence.has_hidden():  # and CharRNN(sizes) at the grader's other sizes (not in the student kit's visible run)
        check_structure(evidence, "s5.model.rand")
        sizes = ", ".join(f"{k}={v}" for k, v in evidence.probe("s5.model.rand").kwargs.items())
        check_logits(evidence, "s5.model.rand_forward", "s5.forward", f"CharRNN({sizes}).forward(x)")


@weight(6)  # 8 before issue 17: one moved to 5.5 (the student's predict on the trained model), one to 5.6
@number("5.2")
@visibility("visible")
@tags("torch", "char-lm", "training")
def test_training(evidence):
    """train_char_lm reaches loss < 0.05 and predicts "ohlol" (re-checked by the grader)
    train_char_lm 的损失低于 0.05 且预测出 "ohlol"（由评分器重新计算）"""
    _judge_char_lm(evidence, "s5.train")
    require_real_training(evidence, "s5", "train_char_lm", _char_lm_untrained)
    require_trains_at_another_seed(evidence, "s5", "train_char_lm", _judge_char_lm)


def _judge_char_lm(evidence, pid):
    """The training criterion, for the graded training (pid "s5.train") and the same at another seed."""
    p = evidence.probe(pid)
    epochs, seed = p.kwargs["epochs"], p.kwargs["seed"]
    model, losses = unpack(evidence.answer(pid), ["model", "losses"], "train_char_lm")
    losses = as_sequence(losses)  # a list, a tuple, a 1-D NumPy array or tensor: the contract fixes only the values
    if losses is None or len(losses) != epochs:
        fail(f"losses should be a sequence of {epochs} numbers (one per epoch), but it is {describe(losses)}"
             f"{f' of length {len(losses)}' if isinstance(losses, (list, tuple)) else ''}.",
             f"losses 应为包含 {epochs} 个数的序列（每个 epoch 一个），实际为 {describe(losses)}。")
    for i, loss in enumerate(losses):
        if isinstance(loss, bool) or not isinstance(loss, (float, int, np.floating)) or not math.isfinite(float(loss)):
            fail(f"losses[{i}] should be a finite float (use loss.item()), but it is {loss!r}.",
                 f"losses[{i}] 应为有限浮点数（请使用 loss.item()），实际为 {loss!r}。")
    if not isinstance(model, ModuleValue):
        fail(f"train_char_lm should return the trained CharRNN as its model, but returned {describe(model)}.",
             f"train_char_lm 返回的 model 应为训练好的 CharRNN，实际为 {describe(model)}。")
    state = expect_state(evidence, "CharRNN", model, "the trained model")
    trusted, pred = evidence.oracle.char_lm(evidence, pid, state)
    budget_note = (f"train_char_lm(epochs={epochs}, lr=0.05, seed={seed}); the reference passes for every seed 0-49 at "
                   f"this budget (reference/BUDGETS.md)")
    if not float(losses[-1]) < LOSS_THRESHOLD or not trusted < LOSS_THRESHOLD:
        fail(f"After {budget_note}, the last epoch's loss is {float(losses[-1]):.4f} and the grader's recomputed loss is "
             f"{trusted:.4f}; both should be below {LOSS_THRESHOLD}.",
             f"{budget_note}：最后一个 epoch 的损失为 {float(losses[-1]):.4f}，评分器重新计算的损失为 {trusted:.4f}；"
             f"两者都应低于 {LOSS_THRESHOLD}。")
    if pred != "ohlol":
        fail(f"After {budget_note}, the trained model predicts {pred!r} for 'hello'; it should predict 'ohlol'.",
             f"{budget_note}：训练后的模型对 'hello' 的预测为 {pred!r}，应为 'ohlol'。")


def _char_lm_untrained(evidence, pid):
    try:
        model = unpack(evidence.answer(pid), ["model", "losses"], "train_char_lm")[0]
        if not isinstance(model, ModuleValue):
            return True, ""
        loss, _prediction = evidence.oracle.char_lm(evidence, pid, expect_state(evidence, "CharRNN", model, "model"))
    except CheckFailed:
        return True, ""  # not a model of the homework's shape: nothing trained
    return not loss < LOSS_THRESHOLD, f"loss {loss:.4f}"


@weight(5)
@number("5.3")
@visibility("after_published")
@tags("torch", "char-lm")
def test_forward_random(evidence):
    """CharRNN.forward matches the reference with the grader's weights on random batches
    CharRNN.forward 使用评分器给出的权重，在随机批量上与参考答案一致"""
    all_pass(evidence, check_forward, evidence.ids("s5.forward.rand"))


@weight(4)
@number("5.4")
@visibility("after_published")
@tags("torch", "char-lm")
def test_predict_random(evidence):
    """predict gives the argmax characters with the grader's weights on random texts
    predict 使用评分器给出的权重，在随机文本上给出 argmax 字符"""
    all_pass(evidence, check_predict, evidence.ids("s5.predict.rand"))


@weight(1)
@number("5.5")
@visibility("visible")
@tags("torch", "char-lm")
def test_predict_on_trained_model(evidence):
    """Your predict on your trained model gives what that model predicts for "hello" (the homework's printed result)
    你的 predict 在你训练好的模型上给出该模型对 "hello" 的预测（作业打印的结果）"""
    # Its own check (issue 17): a broken predict costs the predict checks, never the training check, and a failed
    # training costs 5.2, not this one: the answer is compared with the grader's evaluation of the same model.
    model, _losses = unpack(evidence.answer("s5.train"), ["model", "losses"], "train_char_lm")
    if not isinstance(model, ModuleValue):
        fail(f"train_char_lm returned no model to predict with ({describe(model)}); see 5.2.",
             f"train_char_lm 没有返回可用于预测的模型（{describe(model)}）；见 5.2。")
    _loss, want = evidence.oracle.char_lm(evidence, "s5.train", expect_state(evidence, "CharRNN", model, "the trained model"))
    own = evidence.answer(P.S5_PREDICT_TRAINED)
    if own != want:
        fail(f"Your predict(model, 'hello') on your trained model gives {own!r}; that model predicts {want!r} "
             f"(the grader's evaluation of its logits).",
             f"你的 predict(model, 'hello') 在你训练好的模型上给出 {own!r}；该模型的预测应为 {want!r}（评分器根据其输出计算）。")


@weight(1)
@number("5.6")
@visibility("visible")
@tags("torch", "char-lm", "training")
def test_training_follows_its_arguments(evidence):
    """train_char_lm runs at a tiny budget and follows its seed and lr there
    train_char_lm 在极小预算下也能运行，并遵循 seed 与 lr"""
    # Its own small check (issue 17): a training that breaks only these keeps the training marks of 5.2
    require_follows_arguments(evidence, "s5", "train_char_lm")
