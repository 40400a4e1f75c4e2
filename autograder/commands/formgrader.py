"""``python -m autograder formgrader OUT``: nbgrader's formgrader on a graded course folder.

Starts Jupyter's server in OUT (where nbgrader's formgrader finds ``nbgrader_config.py`` and
the gradebook) on 127.0.0.1 with a token of its own, prints the formgrader's address, and on
Ctrl-C stops the server (SIGTERM: it shuts down its kernels and exits) and itself. Jupyter
refuses to run as root (containers often do): there it gets ``--allow-root``, and says so. The
command holds OUT's lock while the server runs, since formgrader writes the gradebook: a
``grade`` started meanwhile waits for it.

Then run ``grade`` again: the hand grades and comments reach exercises.csv, grades.csv and the
feedback pages (docs/GRADING.md, "Manual grading and comments: formgrader").
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..grading.vocabulary import GraderError

START_SECONDS = 120


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder formgrader",
        description="Serve nbgrader's formgrader for a course folder graded by `grade`, to "
        "grade written answers and comment on answers by hand. Ctrl-C stops it.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the course folder `grade` wrote")
    p.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    p.add_argument(
        "--ip", default="127.0.0.1", help="the address to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--no-wait", action="store_true", help="stop (exit 2) when another run holds OUT"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    from ..grading.lock import hold

    args = build_parser().parse_args(argv)
    out = args.out.resolve()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server too, as Ctrl-C does
    try:
        if not (out / "nbgrader_config.py").is_file() or not (out / "submitted").is_dir():
            raise GraderError(f"{args.out} is not a course folder `grade` wrote (grade first)")
        with hold(out, wait=not args.no_wait, what="formgrader"):
            return _serve(out, args.ip, args.port or _free_port(args.ip))
    except GraderError as exc:
        print(f"formgrader: error: {exc}", file=sys.stderr)
        return 2


def _serve(out: Path, ip: str, port: int) -> int:
    token = secrets.token_hex(24)
    argv = [sys.executable, "-m", "jupyter", "server", "--no-browser", "-y", f"--ip={ip}"]
    argv += [f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={out}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        print("formgrader: running as root, so Jupyter is started with --allow-root")
        argv.append("--allow-root")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    # Its own session: Ctrl-C reaches this process only, which stops the server with SIGTERM.
    server = subprocess.Popen(argv, cwd=out, env=env, start_new_session=True)
    try:
        host = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
        base = f"http://{host}:{port}"
        if not _started(server, f"{base}/api/status?token={token}"):
            raise GraderError(f"Jupyter's server did not start (exit status {server.poll()})")
        print(f"formgrader: {base}/formgrader?token={token}", flush=True)
        print("formgrader: open that address; Ctrl-C stops the server", flush=True)
        server.wait()
        return 0 if server.returncode in (0, -signal.SIGTERM) else 1
    except KeyboardInterrupt:
        print("\nformgrader: stopping the server ...", flush=True)
        return 0
    finally:
        _stop(server)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _started(server: subprocess.Popen, status: str) -> bool:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(status, timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    return False


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()  # SIGTERM: Jupyter shuts its kernels and extensions down
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _free_port(ip: str) -> int:
    with socket.socket() as sock:
        sock.bind((ip if ip not in ("0.0.0.0", "") else "127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
