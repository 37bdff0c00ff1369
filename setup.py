from setuptools import setup

setup(
    name="rnn-hw8-grader",
    version="0.1.0",
    description="Autograder for Homework 8 (RNN, the simple recurrent network)",
    packages=["grader", "grader.checks", "reference"],
    # pytest.ini is how the grader runs its checks: without it every grade fails (USAGE_ERROR).
    package_data={"grader": ["*.toml", "*.json", "*.md"], "grader.checks": ["pytest.ini"],
                  "reference": ["*.json", "*.md"]},
    # 3.9 grammar (annotations are postponed where `X | None` is written: tests/test_install.py checks);
    # the grading environment itself is run end to end on 3.10, 3.11 and 3.12.
    python_requires=">=3.9",
    # Loose on purpose: a TA's existing torch and numpy are kept. What the code imports directly.
    # The grading environment itself is pinned in requirements/lock-py3.X.txt.
    install_requires=["numpy", "torch>=1.12", "nbformat>=5", "gradescope-utils", "pytest", "rich", "jsonschema",
                      "ipython", "psutil", "pyseccomp; sys_platform == 'linux'", "tomli; python_version<'3.11'"],
    extras_require={"batch": ["matplotlib", "pyyaml", "dask[distributed]", "cryptography"]},
    entry_points={"console_scripts": ["hw8-grade=grader.cli:main"]},
)
