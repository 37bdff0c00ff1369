"""Section 1: the SRN in NumPy, no activation (10 points by default)."""
from .marks import number, tags, visibility, weight

from . import srn


@weight(3)
@number("1.1")
@visibility("visible")
@tags("numpy", "srn")
def test_homework_numbers(run):
    """srn_forward reproduces the homework: states 2, 6, 16 and outputs 4, 12, 32
    srn_forward 复现作业结果：状态 2、6、16，输出 4、12、32"""
    srn.check_homework(run, 1, "srn_forward")


@weight(6.5)
@number("1.2")
@visibility("after_published")
@tags("numpy", "srn")
def test_random_probes(run):
    """srn_forward matches the reference on random sizes, weights, inputs and h0
    srn_forward 在随机尺寸、权重、输入和 h0 上与参考答案一致"""
    srn.check_all_random(run, 1)


@weight(0.5)  # non-mutation: about 5% of the section, its own small check
@number("1.3")
@visibility("after_published")
@tags("numpy", "srn")
def test_arguments_unmodified(run):
    """srn_forward leaves its arguments unchanged
    srn_forward 不修改传入的参数"""
    srn.check_unmodified(run, 1, "srn_forward")
