"""Section 1: the SRN in NumPy, no activation (10 points by default)."""
from .marks import number, tags, visibility, weight

from . import srn


@weight(3)
@number("1.1")
@visibility("visible")
@tags("numpy", "srn")
def test_homework_numbers(evidence):
    """srn_forward reproduces the homework: states 2, 6, 16 and outputs 4, 12, 32
    srn_forward 复现作业结果：状态 2、6、16，输出 4、12、32"""
    srn.check_homework(evidence, 1, "srn_forward")


@weight(6.5)
@number("1.2")
@visibility("after_published")
@tags("numpy", "srn")
def test_random_probes(evidence):
    """srn_forward matches the reference on random sizes, weights, inputs and h0
    srn_forward 在随机尺寸、权重、输入和 h0 上与参考答案一致"""
    srn.check_all_random(evidence, 1)


@weight(0.5)  # non-mutation: about 5% of the section, its own small check
@number("1.3")
@visibility("after_published")
@tags("numpy", "srn")
def test_arguments_unmodified(evidence):
    """srn_forward leaves its arguments unchanged
    srn_forward 不修改传入的参数"""
    srn.check_unmodified(evidence, 1, "srn_forward")
