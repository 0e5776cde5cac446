"""Fixtures of the service tests: the API served over real HTTP (see tests/fakes/api_server.py), and a database
URL for each backend the store supports (`db_url`: a SQLite file, and PostgreSQL when one can be started)."""

from pathlib import Path

import pytest

from tests.fakes.api_server import api_server, api_settings  # noqa: F401
from tests.service.pg_server import postgres_admin_url, postgres_url  # noqa: F401


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: a SQLite file (in a folder that does not exist yet), or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sub' / 'netreason.db'}"
    return str(request.getfixturevalue("postgres_url"))
