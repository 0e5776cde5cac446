"""Fixtures of the service tests: the API served over real HTTP (see tests/fakes/api_server.py)."""

from tests.fakes.api_server import api_server, api_settings  # noqa: F401
