"""The marks on each check (weight, number, visibility, tags): gradescope-utils' decorators.

The student kit ships these check modules without Gradescope's package; there the same four
attributes are set by the stand-ins below, so a check reads the same in both places.
"""
try:
    from gradescope_utils.autograder_utils.decorators import number, tags, visibility, weight
except ImportError:  # the student kit
    def _mark(attr, *, many=False):
        def decorator(*values):
            def apply(func):
                setattr(func, attr, values if many else values[0])
                return func
            return apply
        return decorator

    weight, number, visibility = _mark("__weight__"), _mark("__number__"), _mark("__visibility__")
    tags = _mark("__tags__", many=True)

__all__ = ["number", "tags", "visibility", "weight"]
