"""hw8check: the self-check kit for Homework 8 (RNN, the simple recurrent network).

Runs the homework's visible checks on your own machine, with the same check numbers and messages
as the graded run, and without the solutions: the expected values of the visible checks were
computed when the kit was built and are stored as data, and your trained models are judged with
your own functions.

In the notebook:   import hw8check; hw8check.check(1)
In a terminal:     hw8-check hw8.ipynb --lang zh
"""
__version__ = "1.0.0"


def check(section, lang=None):
    """Run section `section`'s visible checks on the functions defined in your notebook; True when all pass."""
    import inspect

    from .kit import load_kit
    from hw8core.selfcheck import check as _check
    kit = load_kit()
    caller = inspect.currentframe().f_back.f_globals
    return _check(section, caller, kit.probes, kit.api_names, oracle=kit.oracle(), lang=lang)
