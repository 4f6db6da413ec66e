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
    g = runpy.run_path(str(ROOT / "python" / "examples" / "notebook.py"), run_name="__main__")
    png = tmp_path / "prediction_10x.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the plotted prediction is one curve: one (method, target, rm_data, series), kl increasing
    gold = g["gold"]
    assert len(gold) > 10
    for col in ("method", "target", "rm_data", "rm_params", "series"):
        assert gold[col].nunique() == 1, col
    assert (gold["kl"].diff().dropna() > 0).all()
    lines = g["ax"].get_lines()
    predicted = [ln for ln in lines if ln.get_label().startswith("predicted")]
    assert len(predicted) == 1
    x = predicted[0].get_xdata()
    assert all(b > a for a, b in zip(x, x[1:]))
    # the measured points are one curve per RM too: kl increasing within each
    for ln in lines:
        if ln.get_label().startswith("measured"):
            x = ln.get_xdata()
            assert all(b > a for a, b in zip(x, x[1:])), ln.get_label()
