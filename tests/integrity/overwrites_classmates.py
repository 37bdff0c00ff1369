# expect: {"1": 10, "2": 10, "3": 15} message: "Graded"
# In a class batch: overwrite every classmate's results.json found in the batch's output folder with a 0.
import glob as _glob
for _path in _glob.glob(OUTDIR + "/students/*/results.json"):
    try:
        with open(_path, "w") as _f:
            _f.write('{"score": 0.0, "output": "forged", "tests": [], "extra_data": {"sections": {}}}')
    except OSError:
        pass
