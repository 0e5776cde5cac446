"""A real PostgreSQL for the store tests: the one named by NETREASON_TEST_POSTGRES_URL, else a throwaway
cluster started with the local `initdb`/`pg_ctl` on 127.0.0.1, else the tests skip and say why.

CI: start a `postgres:16` service container and set
NETREASON_TEST_POSTGRES_URL=postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres
(any database the user may CREATE DATABASE from); or install the Debian `postgresql` package, which this
module finds under /usr/lib/postgresql/*/bin.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.net import free_port

URL_ENV = "NETREASON_TEST_POSTGRES_URL"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres_user(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; switch to the `postgres` account when we are root.
    if os.geteuid() != 0:
        return argv
    # CI's PATH may lack the sbin directories where util-linux installs it.
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start a PostgreSQL server")
    return [runuser, "-u", "postgres", "--", *argv]


def _start_local_cluster(directory: Path) -> tuple[str, list[str]]:
    """Start a cluster in `directory`; return its admin URL and the command that stops it."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip(f"no PostgreSQL server available: set {URL_ENV} or install postgresql (initdb not found)")
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    port = free_port()
    subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"),
                                      "-w", "start"]), check=True, capture_output=True)
    stop = _as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A URL of a PostgreSQL database whose user may create databases."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install netreason[postgres])")
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    directory = Path(tempfile.mkdtemp(prefix="netreason-pg-"))
    try:
        url, stop = _start_local_cluster(directory)
    except subprocess.CalledProcessError as e:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.skip(f"could not start a local PostgreSQL: {e.stderr.decode(errors='replace')[-300:]}")
    try:
        yield url
    finally:
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A URL of a new, empty database, dropped after the test."""
    import sqlalchemy as sa

    name = f"netreason_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(sa.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
