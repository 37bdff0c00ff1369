"""Probe ids that more than one module names (the plan makes them, the checks read them), and probe roles.

Ids are "s<section>.<what>[.<variant>]"; a check that takes a family of probes reads evidence.ids(prefix).
What a probe is for is its role (Probe.role), set by the plan: a check never reads it from the spelling of an id.
"""

# Probe.role: what a probe is for.
HOMEWORK = "homework"  # the homework's own inputs: the same at every seed
RANDOM = "random"  # inputs drawn from the run's probe seed
TRAIN = "train"  # the graded training, at its budget
TRAIN_OTHER_SEED = "train_other_seed"  # the graded training again at other seeds (hidden): must pass there too
TINY = "tiny"  # the same training at a tiny budget: must come out untrained
SMALL = "small"  # the same training at a small budget (>= 10 epochs): must differ from the graded result
TINY_OTHER_SEED = "tiny_other_seed"  # the tiny training at another seed: must differ from TINY
RESEEDED = "reseeded"  # the tiny training after other global seeds: must equal TINY
TINY_WITH = "tiny_with"  # the tiny training with one hyperparameter changed: must differ from TINY
ON_TRAINED = "on_trained"  # the submission's own function on the model its own training returned
KIT = "kit"  # the student kit's extra probes, which judge a trained model with the student's own functions
ROLES = (HOMEWORK, RANDOM, TRAIN, TRAIN_OTHER_SEED, TINY, SMALL, TINY_OTHER_SEED, RESEEDED, TINY_WITH, ON_TRAINED, KIT)


def train(section):
    return f"{section}.train"


def train_other_seed(section, seed):
    """The graded training at another seed, the same budget: must pass as well, and must not return what train(section)
    returns unless the training ignores its seed (a stored result returned above the small budgets; issue 17)."""
    return f"{section}.train_seed{seed}"


def tiny(section):
    """The same training with a tiny budget: must come out untrained."""
    return f"{section}.train_tiny"


def small(section):
    """The same training at a small budget, still untrained: must not return what the graded training returns."""
    return f"{section}.train_small"


def tiny_other_seed(section):
    """The tiny training at another seed: must differ from tiny(section)."""
    return f"{section}.train_tiny_seed"


def reseeded(section):
    """The tiny training again at the same seed argument, after other global seeds: must equal tiny(section)."""
    return f"{section}.train_reseeded"


def tiny_with(section, key):
    """The tiny training with one hyperparameter changed (probes.HYPERPARAMETER_TWINS): must differ from tiny(section)."""
    return f"{section}.train_tiny_{key}"


S5_PREDICT_TRAINED = "s5.predict_trained"


def translate_trained(word):
    return f"s7.translate_trained.{word}"
