"""Shared fixtures: the repository root, the goodhart binary (the command line the package is
compared with), and running it."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def goodhart_binary() -> str:
    """GOODHART_BIN, else target/debug/goodhart, else target/release/goodhart."""
    env = os.environ.get("GOODHART_BIN")
    if env:
        return env
    for profile in ("debug", "release"):
        p = ROOT / "target" / profile / "goodhart"
        if p.exists():
            return str(p)
    pytest.skip("no goodhart binary: run cargo build first (or set GOODHART_BIN)")


def run_cli(args, cwd=None, check=True):
    """Runs the goodhart binary with --quiet (errors are still printed); returns the
    CompletedProcess (text). check: fail unless it exits 0."""
    proc = subprocess.run(
        [goodhart_binary(), "--quiet", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"goodhart {args} failed: {proc.stderr}")
    return proc


@pytest.fixture
def root():
    return ROOT
