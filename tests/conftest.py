import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module")
def server():
    """A real crossgrad server on a free loopback port for the module's tests."""
    from crossgrad.server.app import create_server

    running = create_server("127.0.0.1", 0)
    yield running
    running.stop(0)


@pytest.fixture()
def client(server):
    from crossgrad.client import Client

    with Client(f"127.0.0.1:{server.port}", deadline=60) as c:
        yield c
