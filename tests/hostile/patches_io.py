# expect: {"1": 10, "2": 10, "3": 15} message: "Visible checks: 12 / 49"
# Correct code that rebinds the I/O the grader's child once wrote its answers with: it must not
# change the grade of correct work (the child's machinery keeps the originals).
import builtins
import io
import json
import os
import numpy


def _refuse(*args, **kwargs):
    raise PermissionError("this submission replaced the I/O functions")


builtins.open = io.open = _refuse
os.path.exists = os.path.join = os.path.isfile = lambda *a, **k: False
os.replace = os.rename = _refuse
json.dump = json.dumps = json.loads = _refuse
numpy.savez = numpy.save = numpy.load = _refuse
