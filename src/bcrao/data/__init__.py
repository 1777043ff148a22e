"""Bundled data files (the offline sample corpus), read with ``importlib.resources``."""
