"""`python -m grader`: the hw8-grade command line (grader/cli.py)."""
import sys

from .cli import main

sys.exit(main())
