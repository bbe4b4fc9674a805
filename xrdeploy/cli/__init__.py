"""The command line: sits on top of every other part; nothing imports it but `main.py`."""
