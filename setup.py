from setuptools import setup

setup(
    name="rnn-hw8-grader",
    version="0.1.0",
    description="Autograder for Homework 8 (RNN, the simple recurrent network)",
    packages=["grader", "grader.checks", "reference"],
    package_data={"grader": ["*.toml", "*.json"], "reference": ["*.json", "*.md"]},
    python_requires=">=3.9",
    # Loose on purpose: a student's existing torch and numpy are kept.
    # The grading environment is pinned in requirements.txt.
    install_requires=["numpy", "torch>=1.12", "nbformat>=5", "gradescope-utils", "pytest",
                      "rich", "jsonschema", "ipython", "tomli; python_version<'3.11'"],
    extras_require={"batch": ["matplotlib", "pyyaml", "tqdm", "dask[distributed]"]},
    entry_points={"console_scripts": ["hw8-grade=grader.cli:main"]},
)
