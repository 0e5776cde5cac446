"""Fixtures of the hostile-caller tests: the API over real HTTP (tests/fakes/api_server.py)."""

from tests.fakes.api_server import api_server, api_settings  # noqa: F401
