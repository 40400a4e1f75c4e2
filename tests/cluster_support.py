"""A real PostgreSQL server for tests/test_cluster.py (its Dask cluster is
:class:`autograder.cluster.local.LocalCluster`, which the benchmark uses too).

Started with PostgreSQL's own ``initdb`` and ``postgres`` from Debian's package, on a Unix
socket in a temporary folder with no TCP listener; stopped by the fixture that started it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autograder.demo.local_cluster import stop_process, wait_until

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


# --------------------------------------------------------------------------- PostgreSQL


def postgres_missing_message() -> str | None:
    if not (POSTGRES_BIN / "postgres").is_file():
        return f"PostgreSQL 15 is not installed ({POSTGRES_BIN}): apt-get install postgresql"
    return None


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster listening only on a Unix socket in ``folder``."""

    folder: Path
    process: subprocess.Popen | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _user(self) -> dict:
        # initdb and postgres refuse to run as root: as root they run as Debian's `postgres`.
        return {"user": "postgres"} if os.geteuid() == 0 else {}

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        log = self.folder / "postgres.log"
        subprocess.run(
            [str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
            + ["--no-sync"],
            check=True,
            capture_output=True,
            **self._user(),
        )
        self.process = subprocess.Popen(
            [str(POSTGRES_BIN / "postgres"), "-D", str(self.data), "-k", str(self.folder)]
            + ["-c", "listen_addresses=", "-c", "fsync=off"],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            **self._user(),
        )
        socket = self.folder / ".s.PGSQL.5432"
        wait_until("postgres", lambda: socket.exists() and self._answers(), self.process, log)

    def _answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(host=str(self.folder), user="postgres", dbname="postgres"):
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            host=str(self.folder), user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@/{name}?host={self.folder}"

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=30)
