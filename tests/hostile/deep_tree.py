# expect: {"1": 10, "2": 10, "3": 15} message: "Graded hw8.py"
# A folder 1500 levels deep in the run's own folder (allowed: it is the child's to write). The grader's clean-up,
# shutil.rmtree, recursed once per level and raised RecursionError (which ignore_errors does not catch): the grade
# failed, and the run folder and its lock were left for every later grader on the machine to trip over.
import os as _os

_start = _os.getcwd()
for _level in range(1500):
    _os.mkdir("d")
    _os.chdir("d")
_os.chdir(_start)
