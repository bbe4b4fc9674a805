"""Tests that share one deployment of the wave chain (`wave_chain`, tests/configs/local_wave.yaml):
beta (a 1-minute bake gated by the alarm beta-errors) → prod-eu + prod-ap at once.

`make test` runs them on one pytest-xdist worker, as one unit (see `pytest_xdist_make_scheduler`
in tests/conftest.py), so the chain is deployed once per run however many files this folder has.
"""
