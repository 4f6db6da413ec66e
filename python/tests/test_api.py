"""The Python API against the command line: the same documents and tables, byte for byte or
value for value, from paths and from pandas, polars and pyarrow tables; the same errors."""

import json
import random

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import goodhart
from conftest import ROOT, run_cli

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

BON_CURVES = ROOT / "data" / "bon_curves.csv"
RL_RUNS = ROOT / "data" / "rl_runs.csv"
SAMPLES = ROOT / "data" / "bon_samples.parquet"


def read_pq(path):
    # text columns as `string` (goodhart's results do so; polars writes `string_view`)
    return goodhart._plain(pq.read_table(path))


def read_csv(path):
    # round_trip: the shortest text of each double parses back to the same double (pandas'
    # default parser may be one ulp off)
    return pd.read_csv(path, float_precision="round_trip")


def test_fit_of_demo_dataframes_equals_the_committed_fits_json(tmp_path):
    # README: the demo's fits are `goodhart fit --share-alpha-rl --reference data/bon_samples.parquet`
    got = goodhart.fit(
        [read_csv(BON_CURVES), read_csv(RL_RUNS)],
        share_alpha_rl=True,
        reference=str(SAMPLES),
    )
    run_cli(["fit", BON_CURVES, RL_RUNS, "--share-alpha-rl", "--reference", SAMPLES, "--out", tmp_path / "f.json"])
    assert got.document == json.loads((tmp_path / "f.json").read_text())
    # The committed demo file has the same keys plus the extrapolation tests the demo adds, and
    # its best-of-n fits are these (its RL fits share alpha among unpenalised runs only).
    want = json.loads((ROOT / "fits" / "fits.json").read_text())
    assert set(want) - set(got.document) == {"extrapolation"}
    bon = [f for f in got.document["fits"] if f["method"] == "bon"]
    assert len(bon) > 10
    assert bon == [f for f in want["fits"] if f["method"] == "bon"]


def test_acceptance_one_liner_equals_the_committed_bon_fits():
    # README: python -c "import goodhart, pandas; print(goodhart.fit(pandas.read_csv('data/bon_curves.csv')).table)"
    got = goodhart.fit(pd.read_csv(BON_CURVES))
    want = json.loads((ROOT / "fits" / "fits.json").read_text())
    assert got.document["fits"] == [f for f in want["fits"] if f["method"] == "bon"]
    assert set(got.table["rm_params"]) == {f["rm_params"] for f in got.document["fits"]}
    assert "bon" in got.report()


def test_fit_equals_the_cli_from_paths_and_tables(tmp_path):
    run_cli(["fit", BON_CURVES, "--out", tmp_path / "f.json", "--csv", tmp_path / "f.csv", "--bootstrap", "50", "--seed", "3"])
    want = json.loads((tmp_path / "f.json").read_text())
    want_csv = pacsv.read_csv(tmp_path / "f.csv")
    # empty CSV cells are missing values, as goodhart reads them
    arrow = pacsv.read_csv(BON_CURVES, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    for curves in (str(BON_CURVES), read_csv(BON_CURVES), pl.read_csv(BON_CURVES), arrow):
        got = goodhart.fit(curves, bootstrap=50, seed=3)
        assert got.document == want, type(curves)
        assert got.arrow.equals(want_csv)


def test_bon_round_trips_pandas_polars_pyarrow(tmp_path):
    run_cli(["bon", SAMPLES, "--out", tmp_path / "c.parquet", "--bootstrap", "3", "--seed", "2"])
    want = read_pq(tmp_path / "c.parquet")
    table = pq.read_table(SAMPLES)
    for samples in (str(SAMPLES), table, table.to_pandas(), pl.from_arrow(table)):
        got = goodhart.bon(samples, bootstrap=3, seed=2)
        assert got.arrow.equals(want), type(samples)
    # out: pandas when pandas is installed, polars through .arrow
    assert isinstance(got.table, pd.DataFrame)
    assert pl.from_arrow(got.arrow).height == want.num_rows


def test_bon_merge_of_shuffled_shards_equals_bon():
    table = pq.read_table(SAMPLES)
    prompts = sorted(set(table.column("prompt").to_pylist()))
    random.Random(5).shuffle(prompts)
    shards = [
        table.filter(pc.is_in(table["prompt"], pa.array(prompts[k::8]))) for k in range(8)
    ]
    options = dict(bootstrap=4, seed=9, kl="pool")
    parts = [goodhart.bon_partial(s, **options) for s in shards]
    random.Random(6).shuffle(parts)
    merged = goodhart.bon_merge(parts)
    whole = goodhart.bon(table, **options)
    assert merged.arrow.equals(whole.arrow)
    # a prompt in two partials
    with pytest.raises(goodhart.InputError, match="is in both <partial table> and <partial table 2>"):
        goodhart.bon_merge([parts[0], parts[0]])


def test_scale_and_predict_equal_the_cli(tmp_path):
    fits = ROOT / "fits" / "fits.json"
    run_cli(["scale", fits, "--out", tmp_path / "s.json"])
    run_cli(["predict", "--scaling", tmp_path / "s.json", "--rm-params", "3e3", "--out", tmp_path / "p.json"])
    run_cli(["predict", "--scaling", tmp_path / "s.json", "--rm-params", "3e3", "--out", tmp_path / "p.parquet"])
    laws = goodhart.scale(json.loads(fits.read_text()))
    assert laws.document == json.loads((tmp_path / "s.json").read_text())
    pred = goodhart.predict(laws, rm_params=[3e3])
    assert pred.document == json.loads((tmp_path / "p.json").read_text())
    assert pred.arrow.equals(read_pq(tmp_path / "p.parquet"))


def test_wrong_column_gives_the_cli_message(tmp_path):
    df = read_csv(BON_CURVES).rename(columns={"kl": "kl_nats"})
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "curves.parquet")
    cli = run_cli(["fit", "curves.parquet", "--out", "f.json"], cwd=tmp_path, check=False)
    assert cli.returncode == 1
    want = cli.stderr.strip().removeprefix("error: ").replace("curves.parquet", "<curves table>")
    assert "kl" in want
    with pytest.raises(goodhart.InputError) as err:
        goodhart.fit(df)
    assert str(err.value) == want
    assert isinstance(err.value, goodhart.GoodhartError)


def test_usage_errors_are_usage_errors(tmp_path):
    cli = run_cli(["bon", SAMPLES, "--out", tmp_path / "c.csv", "--n", "0"], check=False)
    assert cli.returncode == 2
    with pytest.raises(goodhart.UsageError) as err:
        goodhart.bon(str(SAMPLES), n=[0])
    assert str(err.value) == cli.stderr.strip().removeprefix("error: ")
    with pytest.raises(goodhart.UsageError, match="form: unknown value 'nope'"):
        goodhart.fit(str(BON_CURVES), form="nope")


def test_read_log(tmp_path):
    trl = ROOT / "tests" / "data" / "adapters" / "trl_ppo"
    run_cli(["convert", trl / "trainer_state.json", "--format", "trl", "--gold-from", trl / "gold.csv",
             "--rm-params", "1e9", "--out", tmp_path / "c.parquet"])
    got = goodhart.read_log(trl / "trainer_state.json", format="trl", gold_from=trl / "gold.csv", rm_params=1e9)
    pd.testing.assert_frame_equal(got, read_pq(tmp_path / "c.parquet").to_pandas())
    assert len(got) > 10 and {"kl", "gold", "proxy"} <= set(got.columns)


def test_report_writes_the_files(tmp_path):
    (tmp_path / "out").mkdir()
    written = goodhart.report(read_csv(BON_CURVES), out=tmp_path / "out")
    assert any(p.endswith("report.html") for p in written)
    with pytest.raises(goodhart.InputError, match="not an existing folder"):
        goodhart.report(str(BON_CURVES), out=tmp_path / "missing")


GRPO = ROOT / "tests" / "data" / "adapters" / "trl_today" / "grpo"


def test_read_log_takes_the_log_flags_of_the_cli(tmp_path):
    # the GRPO log: per-token KL converted by completions/mean_length, the step-0 baseline row
    run_cli(["convert", GRPO / "trainer_state.json", "--gold-from", GRPO / "gold.csv",
             "--rm-params", "1e9", "--out", tmp_path / "c.parquet"])
    want = read_pq(tmp_path / "c.parquet").to_pandas()
    got = goodhart.read_log(GRPO / "trainer_state.json", gold_from=GRPO / "gold.csv", rm_params=1e9)
    pd.testing.assert_frame_equal(got, want)
    assert 0 in set(got["step"]), "the step-0 baseline row"
    state = json.loads((GRPO / "trainer_state.json").read_text())
    logged = {e["step"]: e for e in state["log_history"] if "kl" in e}
    for step, kl in zip(got["step"], got["kl"]):
        if step in logged:
            e = logged[step]
            assert kl == pytest.approx(e["kl"] * e["completions/mean_length"])
    # the flags a warning asks for are keywords: --length-key is length_key, --kl-unit kl_unit
    run_cli(["convert", GRPO / "trainer_state.json", "--gold-from", GRPO / "gold.csv",
             "--rm-params", "1e9", "--length-key", "completions/mean_length",
             "--out", tmp_path / "l.parquet"])
    got = goodhart.read_log(GRPO / "trainer_state.json", gold_from=str(GRPO / "gold.csv"),
                            rm_params=1e9, length_key="completions/mean_length")
    pd.testing.assert_frame_equal(got, read_pq(tmp_path / "l.parquet").to_pandas())
    # kl_unit="sequence": the user's word wins, and the length key found in the log is not
    # applied (the CLI refused this before a review); the CLI and Python agree
    run_cli(["convert", GRPO / "trainer_state.json", "--gold-from", GRPO / "gold.csv",
             "--rm-params", "1e9", "--kl-unit", "sequence", "--out", tmp_path / "s.parquet"])
    got = goodhart.read_log(GRPO / "trainer_state.json", gold_from=GRPO / "gold.csv",
                            rm_params=1e9, kl_unit="sequence")
    pd.testing.assert_frame_equal(got, read_pq(tmp_path / "s.parquet").to_pandas())
    for step, kl in zip(got["step"], got["kl"]):
        if step in logged:
            assert kl == pytest.approx(logged[step]["kl"]), "not multiplied by the length"
    run_cli(["convert", GRPO / "trainer_state.json", "--gold-from", GRPO / "gold.csv",
             "--rm-params", "1e9", "--kl-unit", "token", "--out", tmp_path / "t.parquet"])
    got = goodhart.read_log(GRPO / "trainer_state.json", gold_from=GRPO / "gold.csv",
                            rm_params=1e9, kl_unit="token")
    pd.testing.assert_frame_equal(got, read_pq(tmp_path / "t.parquet").to_pandas())
    # fit takes them too
    fits = goodhart.fit(GRPO / "trainer_state.json", gold_from=GRPO / "gold.csv", rm_params=1e9,
                        bootstrap=20)
    assert fits.document["fits"]


def test_log_option_errors_name_the_cli_flags(tmp_path):
    with pytest.raises(goodhart.UsageError, match="--join-tolerance applies to --gold-from"):
        goodhart.read_log(GRPO / "trainer_state.json", join_tolerance=2)
    with pytest.raises(goodhart.UsageError, match="--kl-unit: unknown value 'nats'"):
        goodhart.read_log(GRPO / "trainer_state.json", kl_unit="nats")
    with pytest.raises(goodhart.UsageError, match="runs manifest"):
        goodhart.read_log(GRPO / "trainer_state.json", rm_params=[1e9, 2e9])
    with pytest.raises(TypeError, match="length_kye"):
        goodhart.read_log(GRPO / "trainer_state.json", length_kye="x")


def test_predict_takes_a_kl_list_and_one_size(tmp_path):
    laws = goodhart.scale(json.loads((ROOT / "fits" / "fits.json").read_text()))
    a = goodhart.predict(laws, rm_params=[3e3], kl="0:4:0.5")
    b = goodhart.predict(laws, rm_params=3e3, kl=[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0])
    assert a.document == b.document
    import numpy as np

    c = goodhart.predict(laws, rm_params=np.array([3e3]), kl=np.arange(0, 4.25, 0.5))
    assert a.document == c.document


def test_pandas_categoricals_are_their_values():
    df = read_csv(BON_CURVES)
    cat = df.assign(method=df["method"].astype("category"))
    a = goodhart.fit(df, bootstrap=20)
    b = goodhart.fit(cat, bootstrap=20)
    assert a.document == b.document


def test_reprs_are_short():
    fits = goodhart.fit(str(BON_CURVES), bootstrap=20)
    r = repr(fits)
    assert r.startswith("<FitResult: ") and "fits" in r and "warning" in r and len(r) < 100
    bon = goodhart.bon(str(SAMPLES))
    assert repr(bon).startswith("<BonResult: ") and len(repr(bon)) < 100
    laws = goodhart.scale(fits)
    assert repr(laws).startswith("<ScalingResult: ") and len(repr(laws)) < 100
    pred = goodhart.predict(laws, rm_params=3e3)
    assert repr(pred).startswith("<PredictResult: ") and len(repr(pred)) < 100
