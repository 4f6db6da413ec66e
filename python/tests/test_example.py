"""The notebook-style example (python/examples/notebook.py, also in the README) runs."""

import os
import runpy
import shutil

import pytest

from conftest import ROOT

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")


def test_notebook_example_runs(tmp_path, monkeypatch):
    os.environ["MPLBACKEND"] = "Agg"
    import matplotlib

    matplotlib.use("Agg")
    for d in ("data", "tests/data/adapters/trl_ppo"):
        shutil.copytree(ROOT / d, tmp_path / d)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(ROOT / "python" / "examples" / "notebook.py"), run_name="__main__")
    png = tmp_path / "prediction_10x.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
