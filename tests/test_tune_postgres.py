"""Two `tune` processes on one study in a real PostgreSQL server, as two machines would share it
(docs/search.md). The fixture starts Debian's server (apt package postgresql) on a free local port
in a temporary folder and stops it after; where the server or the driver is missing, the test
skips and says which."""
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_tune_cli import search_file

optuna = pytest.importorskip("optuna")


def _server_bin() -> Path | None:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all(os.access(Path(folder) / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """postgresql+psycopg2://... of a throw-away server, stopped after the test."""
    pytest.importorskip("psycopg2", reason="psycopg2 (pip install psycopg2-binary) is needed for a PostgreSQL URL")
    bin_dir = _server_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server here (initdb and pg_ctl not found; apt install postgresql)")
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres account
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser is missing, so the PostgreSQL server cannot be started")
        try:
            import pwd

            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres account, so the PostgreSQL server cannot be started")
        prefix = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="layerloom-pg-"))   # not under pytest's root-only folder
    data = folder / "data"
    if prefix:
        os.chown(folder, account.pw_uid, account.pw_gid)
    port = _free_port()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *args], check=False, capture_output=True, text=True, timeout=120)

    made = run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "layerloom", "--no-sync")
    if made.returncode != 0:
        pytest.skip(f"initdb could not make a cluster: {made.stderr.strip().splitlines()[-1:]}")
    started = run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                  f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    if started.returncode != 0:
        pytest.skip(f"the PostgreSQL server did not start: {started.stderr.strip() or started.stdout.strip()}")
    try:
        yield f"postgresql+psycopg2://layerloom@127.0.0.1:{port}/postgres"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_two_processes_share_one_study_in_postgresql(tmp_path, postgres_url):
    path = search_file(tmp_path)
    command = [sys.executable, str(ROOT / "main.py"), "tune", str(path), "--trials", "1", "--storage", postgres_url,
               "--study", "machines"]
    procs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    trials = optuna.load_study(study_name="machines", storage=postgres_url).trials
    assert len(trials) == 2 and {t.state.name for t in trials} == {"COMPLETE"}
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    assert not (tmp_path / "spiral.optuna.db").exists()   # nothing went to the default SQLite file
