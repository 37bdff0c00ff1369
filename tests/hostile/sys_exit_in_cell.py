# expect: {"1": 10, "2": 10, "3": 15} message: "SystemExit"
import sys
sys.exit(0)
