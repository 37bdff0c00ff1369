"""rnn-hw8-grader: grades Homework 8 (RNN) submissions; see README.md."""


def check(section, lang=None):
    """Run one section's visible checks against the calling notebook's live functions."""
    from .selfcheck import check as _check
    import inspect
    frame = inspect.currentframe().f_back
    return _check(section, frame.f_globals, lang=lang)
