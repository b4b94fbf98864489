"""Helpers shared by test modules and benchmarks: ports, the reference run, raw data, test lakes, a browser.

Everything another module imports lives here; the ``conftest.py`` files hold only pytest fixtures (and their
own local helpers) and import what they share from this package. Nothing imports a ``conftest.py``.
"""
