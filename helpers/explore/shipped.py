"""Pictures shipped with the package, for the explorer calls the lessons make.

An explorer shows two pictures: its first live picture (with its readout) and its static
fallback (the ``image/png`` in its display bundle). For the call a lesson's cell makes, both
are the same for every student who runs it, and drawing them is most of the cell's time. So
for the calls in :data:`LESSON_CALLS` they are drawn once, stored in
``helpers/explore/shipped/`` and read back; any other call (other arguments, the student's own
function) and every later redraw (a slider moved) is drawn as before.

The pictures are found by a key, the explorer's name and its arguments (:func:`key`).
``python -m helpers.explore --write`` draws them all again (``make release`` runs it);
``--check`` fails when a stored picture no longer looks like a fresh drawing, when a readout
differs, or when a file is missing or left over (the test suite runs the same comparison).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

FOLDER = Path(__file__).with_name("shipped")

# The explorer calls in the lessons, exactly as their cells make them (a test keeps this list
# and the solutions notebooks in step).
LESSON_CALLS = (
    "secant_to_tangent()",
    "step_size_error()",
    "chain_rule_graph(x=2.0, w1=0.5, w2=0.8, y_true=1.0)",
    "gradient_field(point=(1.0, -0.5))",
    "learning_rate(lr=0.1, start=(-1.5, 1.5))",
    "minibatch_sgd(batch_size=10, lr=0.05)",
    "xor_training(seed=0, hidden=4, lr=0.5)",
    "backward_pass(x=0.5, y=-1.5)",
    "digit_probabilities(index=0)",
)
LIVE_PNG, LIVE_TEXT = "-live.png", "-live.txt"  # beside each fallback picture
TOLERANCE = 2.0  # RMS difference (0-255 scale) allowed between a stored and a fresh picture

_PLAIN = (int, float, str, type(None))


def _plain(value) -> bool:
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN) and not isinstance(value, bool)


def key(name: str, **arguments) -> str | None:
    """The key of an explorer's picture: its name and the arguments the picture depends on.

    None when an argument is not plain data (a function, an array): such a picture is never
    stored, so it is always drawn.
    """
    if not all(_plain(v) for v in arguments.values()):
        return None
    canonical = {k: _canonical(v) for k, v in sorted(arguments.items())}
    return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in canonical.items()) + ")"


def _canonical(value):
    # 1 and 1.0 draw the same picture: one key for both.
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    return float(value) if isinstance(value, int) else value


def path(picture_key: str, kind: str = "") -> Path:
    """The file of ``picture_key``'s fallback picture, or of ``kind`` "-live.png"/"-live.txt"."""
    name = picture_key.split("(", 1)[0]
    digest = hashlib.sha256(picture_key.encode()).hexdigest()[:12]
    return FOLDER / f"{name}-{digest}{kind or '.png'}"


def load(picture_key: str | None) -> bytes | None:
    """The stored fallback picture for ``picture_key``, or None when there is none."""
    if picture_key is None:
        return None
    try:
        return path(picture_key).read_bytes()
    except OSError:
        return None


def load_live(picture_key: str | None) -> tuple[bytes, str] | None:
    """The stored first live picture and its readout for ``picture_key``, or None."""
    if picture_key is None:
        return None
    try:
        png = path(picture_key, LIVE_PNG).read_bytes()
        return png, path(picture_key, LIVE_TEXT).read_text(encoding="utf-8")
    except OSError:
        return None


def _explorer(call: str):
    from helpers import explore

    return eval(f"explore.{call}", {"explore": explore})  # noqa: S307 - our own constant calls


def _fresh(call: str) -> dict[Path, bytes]:
    """Freshly drawn files for one of :data:`LESSON_CALLS`: fallback, live picture, readout."""
    from .shell import STATIC_DPI, _png

    explorer = _explorer(call)
    if explorer.picture_key is None:
        raise ValueError(f"explore.{call} has no picture key: its explorer passes none")
    explorer.redraw()  # drawn, not the stored picture the explorer started with
    fig = explorer.static_figure()
    try:
        fallback = _png(fig, STATIC_DPI)
    finally:
        fig.clear()
    k = explorer.picture_key
    return {
        path(k): fallback,
        path(k, LIVE_PNG): explorer.last_png,
        path(k, LIVE_TEXT): explorer.last_text.encode("utf-8"),
    }


def _stored() -> set[Path]:
    return set(FOLDER.glob("*.png")) | set(FOLDER.glob("*.txt"))


def write() -> list[Path]:
    """Draw every lesson call's pictures into :data:`FOLDER`; remove files no call uses."""
    FOLDER.mkdir(exist_ok=True)
    written = []
    for call in LESSON_CALLS:
        for file, data in _fresh(call).items():
            file.write_bytes(data)
            written.append(file)
    for stale in _stored() - set(written):
        stale.unlink()
    return written


def differences() -> list[str]:
    """What is wrong with the stored files, one line each; empty when they are all right."""
    problems, expected = [], set()
    with tempfile.TemporaryDirectory(prefix="explore-pictures-") as tmp:
        for call in LESSON_CALLS:
            for stored, data in _fresh(call).items():
                expected.add(stored)
                problem = _difference(stored, data, Path(tmp))
                if problem:
                    problems.append(f"explore.{call}: {problem}")
    for stale in sorted(_stored() - expected):
        problems.append(f"{stale.name}: stored, but no lesson call draws it")
    return problems


def _difference(stored: Path, data: bytes, tmp: Path) -> str:
    from matplotlib.testing.compare import compare_images

    if not stored.is_file():
        return f"no stored file {stored.name}"
    if stored.suffix == ".txt":
        return "" if stored.read_bytes() == data else f"{stored.name}: the readout differs"
    fresh = tmp / stored.name
    fresh.write_bytes(data)
    result = compare_images(str(stored), str(fresh), tol=TOLERANCE, in_decorator=True)
    return "" if result is None else f"{stored.name} differs (RMS {result['rms']:.2f})"


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.explore --write | --check``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.explore", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="draw and store every picture")
    mode.add_argument("--check", action="store_true", help="compare the stored pictures")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("agg")
    if args.write:
        for p in write():
            print(f"wrote {p.relative_to(FOLDER.parent.parent.parent)}")
        return 0
    problems = differences()
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("run `python -m helpers.explore --write` and commit the result", file=sys.stderr)
    return 1 if problems else 0
