# expect: {"1": 10, "2": 10, "3": 15} message: "more bytes, not kept"
import sys

sys.stdout.write("x" * 50_000_000)
sys.stdout.flush()
