"""Section 2: the NumPy SRN with tanh (10 points by default)."""
from .marks import number, tags, visibility, weight

from . import srn


@weight(3)
@number("2.1")
@visibility("visible")
@tags("numpy", "srn")
def test_homework_numbers(evidence):
    """srn_forward_tanh reproduces the homework: outputs 1.9280551601516338, 1.9984510891336251, 1.9999753470497836
    srn_forward_tanh 复现作业结果：输出 1.9280551601516338、1.9984510891336251、1.9999753470497836"""
    srn.check_homework(evidence, 2, "srn_forward_tanh")


@weight(6.5)
@number("2.2")
@visibility("after_published")
@tags("numpy", "srn")
def test_random_probes(evidence):
    """srn_forward_tanh matches the reference on random sizes, weights, inputs and h0
    srn_forward_tanh 在随机尺寸、权重、输入和 h0 上与参考答案一致"""
    srn.check_all_random(evidence, 2)


@weight(0.5)  # non-mutation: about 5% of the section, its own small check
@number("2.3")
@visibility("after_published")
@tags("numpy", "srn")
def test_arguments_unmodified(evidence):
    """srn_forward_tanh leaves its arguments unchanged
    srn_forward_tanh 不修改传入的参数"""
    srn.check_unmodified(evidence, 2, "srn_forward_tanh")
