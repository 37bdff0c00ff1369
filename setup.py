from setuptools import setup

setup()  # everything is in pyproject.toml; this shim is for `python setup.py ...` and the course notes
