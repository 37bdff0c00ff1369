"""hw8core: what the grader and the student kit share, installed as this one package by both.

The checks (checks/), the child that runs a submission (child.py) and its supervisor (supervisor.py), the loader,
the wire format between them (wire.py), the messages in two languages (i18n.py), the loading report (feedback.py),
the evidence the checks read (evidence.py) and the in-notebook checks (selfcheck.py).

It never imports the reference, the grader's sandbox or its process control: `.importlinter` says so, and
tests/test_architecture.py runs that contract (and shows it fails on a planted violation). What the checks compare
with is an oracle passed in (Evidence(..., oracle=...)): the grader's runs the reference (grader/oracle.py), the
kit's answers from stored numbers (student_kit/hw8check/stored_oracle.py).
"""
from pathlib import Path

CHILD = Path(__file__).with_name("child.py")  # copied alone into each run's folder and started there
