"""Flows run under Prefect's test harness: a temporary Prefect API for the whole session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    import flows  # noqa: F401  (exports the project settings first)

    with prefect_test_harness(server_startup_timeout=120):
        yield
