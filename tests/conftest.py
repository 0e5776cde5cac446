"""Shared pytest fixtures, grouped by concern in their own modules and imported here."""

from tests.fakes.app_repo import app_repo  # noqa: F401
from tests.fakes.provider_server import fake_provider, fake_provider_env  # noqa: F401
from tests.golden_files import golden, pytest_addoption  # noqa: F401
