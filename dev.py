#!/usr/bin/env python3
"""Set up and run tradekit from a checkout with one command.

    python3 dev.py demo     # a full paper-trading session on the bundled sample data
    python3 dev.py test     # the whole test suite (core and every plugin)
    python3 dev.py install  # only create .venv and install tradekit and plugins/*

The first call creates ``.venv`` next to this file and installs tradekit and
every plugin under plugins/ in editable mode; later calls reuse it and
reinstall only when a pyproject.toml changed. Needs Python 3.11+ and PyPI.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("TRADEKIT_VENV", ROOT / ".venv"))
STAMP = VENV / ".tradekit-install-stamp"
DEMO = ["run", "--broker", "paper", "--strategy", "oi-momentum"]


def _bin(name: str) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / scripts / f"{name}{suffix}"


def _projects() -> list[Path]:
    plugins = sorted(p for p in (ROOT / "plugins").glob("*") if (p / "pyproject.toml").is_file())
    return [ROOT, *plugins]


def _fingerprint(projects: list[Path]) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for project in projects:
        digest.update(str(project).encode())
        digest.update((project / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def install() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"tradekit needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not _bin("python").exists():
        print(f"creating {VENV}", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    projects = _projects()
    fingerprint = _fingerprint(projects)
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    print("installing tradekit and its plugins (first run only)", file=sys.stderr, flush=True)
    python = str(_bin("python"))
    quiet = [] if os.environ.get("TRADEKIT_VERBOSE_INSTALL") else ["-q"]
    subprocess.run([python, "-m", "pip", "install", *quiet, "--upgrade", "pip"], check=True)
    args = [python, "-m", "pip", "install", *quiet, "-e", f"{ROOT}[test]"]
    for project in projects[1:]:
        args += ["-e", f"{project}[test]"]  # a plugin's test extra: e.g. the second client library it is tested on
    subprocess.run(args, check=True)
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    install()
    if command == "install":
        return 0
    if command == "demo":
        return subprocess.call([str(_bin("tradekit")), *DEMO, *rest])
    if command == "test":
        code = subprocess.call([str(_bin("python")), "-m", "pytest", *rest], cwd=ROOT)
        return 0 if code == 5 else code  # 5: no tests collected (a filtered run)
    if command == "tradekit":
        return subprocess.call([str(_bin("tradekit")), *rest])
    print(f"unknown command {command!r}; try: demo, test, install, tradekit", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
