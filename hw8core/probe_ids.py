"""Probe ids that more than one module names: the plan makes them, the checks read them.

Ids are "s<section>.<what>[.<variant>]"; a check that selects by prefix reads run.ids(prefix).
"""


def train(section):
    return f"{section}.train"


def tiny(section):
    """The same training with a tiny budget: must come out untrained."""
    return f"{section}.train_tiny"


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
