"""Tests that share one deployment of the default chain (`default_chain`).

`make test` runs them on one pytest-xdist worker, as one unit (see `pytest_xdist_make_scheduler`
in tests/conftest.py), so the chain is deployed once per run however many files this folder has.
"""
