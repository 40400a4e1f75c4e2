"""JupyterLab 4 served from a copy of the course, driven by headless Debian chromium.

Playwright drives the browser.

Used by tests/test_browser.py. Nothing is written outside a temporary folder: the course is
copied there, and Jupyter, IPython and matplotlib get their own config/data/runtime folders.
Chromium is Debian's (/usr/bin/chromium), never a browser downloaded by ``playwright install``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from support.env import ROOT, VENV_BIN, copy_checkout, private_dirs, with_venv_on_path

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running ``jupyter lab`` on 127.0.0.1 with a token, serving ``root``."""

    root: Path
    port: int
    token: str
    process: subprocess.Popen
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{path}?reset&token={self.token}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def server_env(tmp: Path) -> dict[str, str]:
    env = private_dirs(
        with_venv_on_path(),
        tmp,
        {
            "JUPYTER_CONFIG_DIR": "jupyter-config",
            "JUPYTER_DATA_DIR": "jupyter-data",
            "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
            "IPYTHONDIR": "ipython",
            "MPLCONFIGDIR": "matplotlib",
        },
    )
    env.pop("PYTHONPATH", None)
    return env


def copy_course(tmp: Path) -> Path:
    return copy_checkout(tmp / "course")


def write_lab_settings(config_dir: Path) -> None:
    """User settings for a test run: every cell in the DOM, no news or update toasts."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    files = {
        # JupyterLab 4 leaves off-screen cells out of the DOM by default; the tests look at every
        # cell.
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, value in files.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))


def start_lab(course: Path, tmp: Path, timeout: float = 90, app: str = "lab") -> LabServer:
    """``jupyter lab`` (or ``jupyter <app>``) on a free port; returns once its API answers.

    ``app="server"`` serves nbgrader's formgrader alone (``/formgrader``), without the lab UI.
    """
    port, token = free_port(), secrets.token_hex(16)
    exchange = tmp / "exchange"
    exchange.mkdir(mode=0o777, exist_ok=True)  # nbgrader's assignment list needs it to exist
    log = tmp / f"jupyter-{app}.log"
    env = server_env(tmp)
    write_lab_settings(Path(env["JUPYTER_CONFIG_DIR"]))
    process = subprocess.Popen(
        [
            str(VENV_BIN / "jupyter"),
            app,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={course}",
            f"--Exchange.root={exchange}",
        ],
        cwd=course,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    server = LabServer(course, port, token, process, log)
    deadline = time.monotonic() + timeout
    status = f"http://127.0.0.1:{port}/api/status?token={token}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter {app} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(status, timeout=2) as response:
                json.load(response)
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(
        f"jupyter {app} did not answer within {timeout} s:\n{log.read_text()[-3000:]}"
    )


def chromium_missing_message() -> str | None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"The browser tests need Debian's chromium at {CHROMIUM} and it is missing: run "
        "`apt-get install chromium` (as root; `make test` does it through .ci/system-packages)."
    )


def launch_chromium(playwright, profile: Path):
    """Headless Debian chromium with a fresh profile (Playwright's own browsers are never used)."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1400, "height": 1000},
    )


# --------------------------------------------------------------------------- driving a notebook

PANEL = ".jp-NotebookPanel:visible"
STATUS = f"{PANEL} .jp-Notebook-ExecutionIndicator"
SLIDER = f"{PANEL} .widget-slider [role=slider]"


def open_notebook(page, server: LabServer, path: str, timeout_ms: int = 90_000) -> None:
    """Open ``path`` (relative to the served course) and wait for its kernel to be idle."""
    page.goto(server.url(path))
    page.locator(PANEL).wait_for(timeout=timeout_ms)
    page.locator(f"{STATUS}[data-status=idle]").wait_for(timeout=timeout_ms)
    time.sleep(1)
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        raise AssertionError(f"opening {path} shows a dialog: {dialog.first.inner_text()[:1000]}")


def prompts(page) -> list[str]:
    return page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt").all_inner_texts()


def run_all_cells(page, timeout_s: float = 180) -> float:
    """Run > Run All Cells, then wait until the kernel is idle and no cell is queued.

    Returns the seconds taken.
    """
    start = time.monotonic()
    for attempt in range(3):
        page.click('.lm-MenuBar-itemLabel:text-is("Run")')
        item = page.locator(
            '.lm-Menu-item:not(.lm-mod-disabled):has(.lm-Menu-itemLabel:text-is("Run All Cells"))'
        )
        item.wait_for(timeout=30_000)
        item.click()
        # A click that lands before the notebook is ready does nothing: check that something
        # started.
        if _started(page, within_s=15):
            break
        page.keyboard.press("Escape")
    else:
        raise TimeoutError(f"Run > Run All Cells started nothing; prompts: {prompts(page)}")
    seen_busy, stable = False, 0
    while time.monotonic() - start < timeout_s:
        status = page.locator(STATUS).get_attribute("data-status")
        seen_busy = seen_busy or status == "busy"
        texts = [t.strip() for t in prompts(page)]
        running = any("*" in t for t in texts)
        numbered = bool(texts) and all(t[1:-2].isdigit() for t in texts if t)
        if status == "idle" and not running and (seen_busy or numbered):
            stable += 1
            if stable >= 3:
                return time.monotonic() - start
        else:
            stable = 0
        time.sleep(0.4)
    raise TimeoutError(
        f"Run All Cells did not finish within {timeout_s} s; kernel "
        f"{page.locator(STATUS).get_attribute('data-status')}; prompts: {prompts(page)}"
    )


def _started(page, within_s: float) -> bool:
    # Only a prompt that left "[ ]:" (queued "[*]:" or numbered) says Run All took: the kernel
    # is also briefly busy on its own while JupyterLab and the widget manager talk to it, which
    # under load can coincide with a click that landed before the notebook was ready.
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if any(t.strip() not in ("[ ]:", "") for t in prompts(page)):
            return True
        time.sleep(0.1)
    return False


def save(page, path: Path, timeout_s: float = 30) -> None:
    """Ctrl+S, and wait until the file on disk changes."""
    before = path.stat().st_mtime_ns
    page.locator(f"{PANEL} .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            time.sleep(0.3)  # let the write finish
            return
        time.sleep(0.2)
    raise TimeoutError(f"saving {path.name} did not change the file")


def error_outputs(notebook: Path) -> list[str]:
    nb = json.loads(notebook.read_text())
    return [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb["cells"])
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def shutdown_kernels(server: LabServer) -> None:
    """Stop every kernel of the server (one lesson's kernel should not slow the next)."""
    base = f"http://127.0.0.1:{server.port}/api/kernels"
    headers = {"Authorization": f"token {server.token}"}
    with urllib.request.urlopen(
        urllib.request.Request(base, headers=headers), timeout=10
    ) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{base}/{kernel['id']}", method="DELETE", headers=headers)
        urllib.request.urlopen(request, timeout=30).close()
