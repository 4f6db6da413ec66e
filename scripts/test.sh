#!/usr/bin/env bash
# The test command of the README (and the last step of .ci/run): the Rust tests, then the Python
# package's tests (python/tests) against a fresh build of the package.
#
# Python: a virtual environment cached in target/py-venv (GOODHART_VENV to choose another; made
# with $PYTHON, default python3, >= 3.9) gets the test dependencies and `pip install ./python[ray]`.
# maturin builds the extension in release (GOODHART_PY_PROFILE=dev for the dev profile) in this
# repository's target/: in CI it reuses the release dependencies .ci/package compiled for
# `cargo install` (the same dependency features), so the extension adds pyo3 and a release build
# of the crate; alone on a fresh clone it compiles polars in release once. pytest compares the package with target/debug/goodhart, the binary `cargo test` built
# from the same sources.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

echo "== cargo test"
cargo test

echo "== Python package: venv, pip install ./python[ray], pytest"
start=$SECONDS
venv="${GOODHART_VENV:-$root/target/py-venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    maturin pytest pandas polars pyarrow matplotlib 'ray[data]'
echo "pip install of the test dependencies: $((SECONDS - start)) s"
build=$SECONDS
# uninstall first: a fresh build of the checked-out sources, whatever version is installed
"$venv/bin/python" -m pip uninstall --quiet --yes goodhart 2>/dev/null || true
CARGO_TARGET_DIR="$root/target" MATURIN_PEP517_ARGS="--profile ${GOODHART_PY_PROFILE:-release}" \
    "$venv/bin/python" -m pip install --quiet \
    --disable-pip-version-check './python[ray]'
echo "pip install ./python[ray] (the extension's build): $((SECONDS - build)) s"
tests=$SECONDS
GOODHART_BIN="$root/target/debug/goodhart" MPLBACKEND=Agg \
    "$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider
echo "pytest: $((SECONDS - tests)) s; Python part in all: $((SECONDS - start)) s"
