"""goodhart: scaling laws of reward-model overoptimization (Gao et al. 2023), in Python.

The functions mirror the command line and the Rust library (same options, same documents, same
error messages): :func:`fit`, :func:`bon`, :func:`bon_partial`, :func:`bon_merge`,
:func:`scale`, :func:`predict`, :func:`read_log`, :func:`report`, :func:`generate_sim`.

Tables in: a file path (CSV, Parquet, NDJSON, trainer logs), or any table with the Arrow
PyCapsule interface (``__arrow_c_stream__``: pyarrow, polars, DuckDB, pandas >= 2.2), or a
pandas DataFrame (converted with pyarrow). Tables out: ``result.table`` is a pandas DataFrame
when pandas is installed, else a pyarrow Table; ``result.arrow`` is always the pyarrow Table
(``polars.from_arrow(result.arrow)`` for polars). Documents out: ``result.document`` is the dict
of the command line's JSON file.

In-memory tables reach the library as a temporary Parquet file (one copy), so that every check
and message is the command line's; error messages name such a table ``<curves table>``,
``<samples table>``, ... where the command line names the file.

Example::

    >>> import goodhart, pandas
    >>> fits = goodhart.fit(pandas.read_csv("data/bon_curves.csv"))   # doctest: +SKIP
    >>> fits.table[["rm_params", "form", "alpha", "beta"]]             # doctest: +SKIP
    >>> print(fits.report())                                           # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import numbers
import os
import tempfile
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence, Union

import pyarrow as pa
import pyarrow.parquet as pq

from . import _goodhart
from ._goodhart import GoodhartError, InputError, UsageError

__all__ = [
    "GoodhartError",
    "InputError",
    "UsageError",
    "GoodhartWarning",
    "FitResult",
    "BonResult",
    "ScalingResult",
    "PredictResult",
    "fit",
    "bon",
    "bon_partial",
    "bon_merge",
    "scale",
    "predict",
    "read_log",
    "report",
    "generate_sim",
    "__version__",
]

__version__ = "0.1.0"


class GoodhartWarning(UserWarning):
    """A warning of goodhart (the command line prints it as ``warning: ...``)."""


def _warn(messages: Iterable[str]) -> None:
    for m in messages:
        _warnings.warn(m, GoodhartWarning, stacklevel=3)


def _output(table: pa.Table) -> Any:
    """A pandas DataFrame when pandas is installed, else the pyarrow Table."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        return table
    return table.to_pandas()


def _arrow(obj: Any) -> pa.Table:
    """Any Arrow-compatible table as a pyarrow Table."""
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    try:
        import pandas
    except ImportError:
        pandas = None
    if pandas is not None and isinstance(obj, pandas.DataFrame):
        # categoricals as their values (Arrow dictionaries are not read as text)
        cats = [c for c in obj.columns if isinstance(obj[c].dtype, pandas.CategoricalDtype)]
        if cats:
            obj = obj.assign(**{str(c): obj[c].astype(object) for c in cats})
        # pandas' missing values (NaN, None) become nulls: empty cells, as in a CSV file
        return pa.Table.from_pandas(obj, preserve_index=False)
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    raise TypeError(
        f"expected a file path or a table (pyarrow, polars, pandas, DuckDB, or any object with "
        f"__arrow_c_stream__), not {type(obj).__name__}"
    )


PathOrTable = Union[str, "os.PathLike[str]", Any]


class _Inputs:
    """Writes in-memory tables to temporary Parquet files; maps their paths back in messages."""

    def __init__(self) -> None:
        self._dir: Optional[tempfile.TemporaryDirectory] = None
        self._names: dict = {}

    def __enter__(self) -> "_Inputs":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._dir is not None:
            self._dir.cleanup()

    def dir(self) -> str:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="goodhart-")
        return self._dir.name

    def path(self, obj: PathOrTable, kind: str) -> str:
        if isinstance(obj, (str, os.PathLike)):
            return os.fspath(obj)
        table = _arrow(obj)
        k = sum(1 for v in self._names.values() if v.startswith(f"<{kind} table"))
        label = f"<{kind} table>" if k == 0 else f"<{kind} table {k + 1}>"
        path = os.path.join(self.dir(), f"{kind}-{k + 1}.parquet")
        pq.write_table(table, path)
        self._names[path] = label
        return path

    def paths(self, objs: Union[PathOrTable, Sequence[PathOrTable]], kind: str) -> list:
        if isinstance(objs, (list, tuple)):
            return [self.path(o, kind) for o in objs]
        return [self.path(objs, kind)]

    def json(self, doc: Any, kind: str) -> str:
        """A document (a result, a dict, or a path) as a JSON file path."""
        if isinstance(doc, (str, os.PathLike)):
            return os.fspath(doc)
        if hasattr(doc, "document"):
            doc = doc.document
        path = os.path.join(self.dir(), f"{kind}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        self._names[path] = f"<{kind} document>"
        return path

    def out(self, name: str) -> str:
        return os.path.join(self.dir(), name)

    def rename(self, err: GoodhartError) -> GoodhartError:
        """The error with temporary paths replaced by the names of the tables."""
        text = str(err)
        for path, label in self._names.items():
            text = text.replace(path, label)
        return type(err)(text)

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GoodhartError as err:
            raise self.rename(err) from None


def _plain(table: pa.Table) -> pa.Table:
    """Text columns as Arrow `string`: the library's Parquet writer (polars) stores them as
    `string_view`, which some consumers (Ray's serialiser, older libraries) cannot handle."""
    fields = [
        pa.field(f.name, pa.string()) if f.type == pa.string_view() else f for f in table.schema
    ]
    schema = pa.schema(fields)
    return table if schema.equals(table.schema) else table.cast(schema)


def _read_parquet(data: bytes) -> pa.Table:
    return _plain(pq.read_table(io.BytesIO(data)))


#: The log options: the keyword ``x_y`` is the command-line flag ``--x-y``.
LOG_OPTIONS = (
    "kl_key",
    "proxy_key",
    "gold_key",
    "step_key",
    "length_key",
    "kl_unit",
    "gold_from",
    "join_tolerance",
    "meta",
    "method",
    "rm_params",
    "kl_penalty",
    "policy_params",
    "rm_data",
    "run",
    "runs",
)

_LOG_PATHS = ("gold_from", "meta", "runs")

_LOG_DOC = """
    Log options (keywords, for trainer logs; each is the command-line flag of the same name,
    ``x_y`` for ``--x-y``, and messages name the flag): ``kl_key``, ``proxy_key``, ``gold_key``,
    ``step_key``, ``length_key`` (log keys); ``kl_unit`` ("sequence" or "token");
    ``gold_from`` (a file of gold evaluations joined on step), ``join_tolerance``, ``runs`` (a
    runs manifest); ``meta`` (a metadata sidecar), ``method`` ("rl" or "bon"), ``rm_params``,
    ``kl_penalty``, ``policy_params``, ``rm_data``, ``run``. ``None`` is not given.
"""


def _log(options: dict) -> dict:
    """The log options for the library (paths as text); unknown names are a TypeError."""
    unknown = sorted(set(options) - set(LOG_OPTIONS))
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {', '.join(unknown)} (the log options are "
            f"{', '.join(LOG_OPTIONS)})"
        )
    return {
        k: (os.fspath(v) if k in _LOG_PATHS and v is not None else v)
        for k, v in options.items()
        if v is not None
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(repr=False)
class FitResult:
    """The fits of :func:`fit`.

    Attributes:
        document: the fits JSON document (the dict of ``goodhart fit --out fits.json``).
        table: one row per fit (the columns of ``goodhart fit --csv``): a pandas DataFrame when
            pandas is installed, else a pyarrow Table.
        arrow: the same table as a pyarrow Table.
        warnings: the warnings the command line prints.
    """

    document: dict
    arrow: pa.Table
    warnings: list
    _report: str = field(repr=False)

    @property
    def table(self) -> Any:
        return _output(self.arrow)

    def report(self) -> str:
        """The text report ``goodhart fit`` prints."""
        return self._report

    def __repr__(self) -> str:
        return (
            f"<FitResult: {len(self.document.get('fits', []))} fits, "
            f"{_count(len(self.warnings), 'warning')}>"
        )


@dataclass(repr=False)
class BonResult:
    """The best-of-n curves of :func:`bon` or :func:`bon_merge` (a Curves table).

    Attributes:
        table: the Curves table (pandas DataFrame when pandas is installed, else pyarrow).
        arrow: the same as a pyarrow Table.
        notes: the notes and warnings the command line prints.
    """

    arrow: pa.Table
    notes: list

    @property
    def table(self) -> Any:
        return _output(self.arrow)

    def __repr__(self) -> str:
        return f"<BonResult: {_count(self.arrow.num_rows, 'row')}, {_count(len(self.notes), 'note')}>"


@dataclass(repr=False)
class ScalingResult:
    """The scaling laws of :func:`scale`: ``document`` is the scaling JSON as a dict."""

    document: dict
    warnings: list
    _report: str = field(repr=False)

    def report(self) -> str:
        """The text report ``goodhart scale`` prints."""
        return self._report

    def __repr__(self) -> str:
        return (
            f"<ScalingResult: {_count(len(self.document.get('laws', [])), 'law')}, "
            f"{_count(len(self.warnings), 'warning')}>"
        )


@dataclass(repr=False)
class PredictResult:
    """The predictions of :func:`predict`.

    Attributes:
        document: the predictions JSON as a dict.
        table: the flat predictions table (``goodhart predict --out predictions.csv``).
        arrow: the same as a pyarrow Table.
        warnings: every warning of the predictions.
    """

    document: dict
    arrow: pa.Table
    warnings: list
    _summary: str = field(repr=False)

    @property
    def table(self) -> Any:
        return _output(self.arrow)

    def report(self) -> str:
        """The summary ``goodhart predict`` prints."""
        return self._summary

    def __repr__(self) -> str:
        return (
            f"<PredictResult: {_count(len(self.document.get('predictions', [])), 'prediction')}, "
            f"{_count(self.arrow.num_rows, 'row')}, {_count(len(self.warnings), 'warning')}>"
        )


def fit(
    curves: Union[PathOrTable, Sequence[PathOrTable]],
    *,
    form: str = "auto",
    target: Optional[str] = None,
    baseline: str = "auto",
    weights: str = "auto",
    bootstrap: int = 1000,
    seed: int = 0,
    ci: str = "percentile",
    min_kl: Optional[float] = None,
    max_kl: Optional[float] = None,
    holdout_above: Optional[float] = None,
    share_alpha_rl: bool = False,
    compare_forms: bool = False,
    reference: Optional[Union[str, PathOrTable, Sequence[PathOrTable]]] = None,
    reference_sd: Optional[tuple] = None,
    format: Optional[str] = None,
    **log: Any,
) -> FitResult:
    """Fits the functional forms to Curves tables (``goodhart fit``).

    Args:
        curves: one Curves table or a list (paths, trainer logs, or in-memory tables).
        form, target, baseline, weights, bootstrap, seed, ci, min_kl, max_kl, holdout_above,
            share_alpha_rl, compare_forms: as the flags of ``goodhart fit`` (``form="rl-log1p"``
            for ``--form rl-log1p``).
        reference: Samples tables standardising the Goodhart decomposition (``--reference``);
            ``"none"`` for raw units only.
        reference_sd: ``(proxy_sd, gold_sd)`` (``--reference proxy_sd=X,gold_sd=Y``).
        format: the log format (``--format``: auto, tidy, trl, wandb, tensorboard, verl).
        **log: the log options (below), e.g. ``rm_params=1e9`` for ``--rm-params 1e9``.
    {log}
    Returns:
        :class:`FitResult`, whose ``document`` equals ``goodhart fit``'s JSON.

    Raises:
        InputError: bad input (the command line's message and exit status 1).
        UsageError: a bad option (exit status 2).

    Example::

        >>> import goodhart, pandas
        >>> r = goodhart.fit(pandas.read_csv("data/bon_curves.csv"), bootstrap=200)  # doctest: +SKIP
        >>> r.document["fits"][0]["form"]                                             # doctest: +SKIP
        'bon'
    """
    with _Inputs() as io_:
        paths = io_.paths(curves, "curves")
        ref = None
        if reference is not None:
            if isinstance(reference, str) and reference.strip().lower() == "none":
                ref = []
            else:
                ref = io_.paths(reference, "samples")
        doc, csv, text, warnings = io_.call(
            _goodhart.fit,
            paths,
            form=form,
            target=target,
            baseline=baseline,
            weights=weights,
            bootstrap=bootstrap,
            seed=seed,
            ci=ci,
            min_kl=min_kl,
            max_kl=max_kl,
            holdout_above=holdout_above,
            share_alpha_rl=share_alpha_rl,
            compare_forms=compare_forms,
            reference=ref,
            reference_sd=reference_sd,
            format=format,
            log=_log(log),
        )
    _warn(warnings)
    from pyarrow import csv as pacsv

    table = pacsv.read_csv(io.BytesIO(csv)) if csv else pa.table({})
    return FitResult(json.loads(doc), table, list(warnings), text)


def _bon_kwargs(
    n: Optional[Sequence[int]],
    bootstrap: int,
    seed: int,
    kl: str,
    common_prompts: Optional[str],
    prompt_values: bool,
    format: Optional[str],
    log: dict,
) -> dict:
    return dict(
        n=list(n) if n is not None else None,
        bootstrap=bootstrap,
        seed=seed,
        kl=kl,
        common_prompts=common_prompts,
        prompt_values=prompt_values,
        format=format,
        log=_log(log),
    )


def bon(
    samples: Union[PathOrTable, Sequence[PathOrTable]],
    *,
    n: Optional[Sequence[int]] = None,
    bootstrap: int = 0,
    seed: int = 0,
    kl: str = "analytic",
    common_prompts: Optional[str] = None,
    prompt_values: bool = True,
    format: Optional[str] = None,
    **log: Any,
) -> BonResult:
    """Best-of-n curves from scored samples (``goodhart bon``).

    Args:
        samples: Samples tables (prompt, proxy, gold; rm_params, policy_params, rm_data) or
            best-of-n dumps, as paths or in-memory tables.
        n, bootstrap, seed, kl, common_prompts: as ``--n``, ``--bootstrap``, ``--seed``,
            ``--kl`` (analytic or pool), ``--common-prompts`` (truncate or complete).
        prompt_values: False for ``--no-prompt-values``.
        format, **log: the log format and log options, as for :func:`fit` (e.g. ``rm_params``).

    Example::

        >>> import goodhart, polars
        >>> s = polars.read_parquet("data/bon_samples.parquet")   # doctest: +SKIP
        >>> goodhart.bon(s).table.head()                         # doctest: +SKIP
    """
    with _Inputs() as io_:
        data, notes = io_.call(
            _goodhart.bon,
            io_.paths(samples, "samples"),
            **_bon_kwargs(n, bootstrap, seed, kl, common_prompts, prompt_values, format, log),
        )
    _warn(notes)
    return BonResult(_read_parquet(data), list(notes))


def bon_partial(
    samples: Union[PathOrTable, Sequence[PathOrTable]],
    *,
    n: Optional[Sequence[int]] = None,
    bootstrap: int = 0,
    seed: int = 0,
    kl: str = "analytic",
    common_prompts: Optional[str] = None,
    prompt_values: bool = True,
    format: Optional[str] = None,
    **log: Any,
) -> pa.Table:
    """The partial table of a shard of samples (``goodhart bon --partial``), as a pyarrow Table.

    Partial tables of disjoint prompt sets, made with the same options, merge with
    :func:`bon_merge` into exactly the curves :func:`bon` gives on all the samples. The options
    are those of :func:`bon` (they are recorded in the table's ``options`` column).

    Example::

        >>> parts = [goodhart.bon_partial(shard) for shard in shards]   # doctest: +SKIP
        >>> curves = goodhart.bon_merge(parts).table                     # doctest: +SKIP
    """
    with _Inputs() as io_:
        data, notes = io_.call(
            _goodhart.bon_partial,
            io_.paths(samples, "samples"),
            **_bon_kwargs(n, bootstrap, seed, kl, common_prompts, prompt_values, format, log),
        )
    _warn(notes)
    return _read_parquet(data)


def bon_merge(partials: Sequence[PathOrTable]) -> BonResult:
    """Merges partial tables (``goodhart bon merge``) into the curves of all their samples.

    Args:
        partials: partial tables of :func:`bon_partial` (or ``goodhart bon --partial`` files),
            in any order. Every pool (reward model, prompt) must be in one of them only.

    Raises:
        InputError: mixed options, a prompt in two partials, not a partial table, ...
    """
    with _Inputs() as io_:
        items = list(partials) if isinstance(partials, (list, tuple)) else [partials]
        paths = [io_.path(p, "partial") for p in items]
        data, notes = io_.call(_goodhart.bon_merge, paths)
    _warn(notes)
    return BonResult(_read_parquet(data), list(notes))


def scale(
    fits: Union[FitResult, dict, str, "os.PathLike[str]"],
    *,
    by: str = "rm_params",
    joint_curves: Optional[Union[PathOrTable, Sequence[PathOrTable]]] = None,
    format: Optional[str] = None,
    **log: Any,
) -> ScalingResult:
    """Scaling laws of the fitted coefficients (``goodhart scale``).

    Args:
        fits: a :class:`FitResult`, its ``document``, or a fits JSON file.
        by: the size the laws run over: rm_params, rm_data or policy_params (``--by``).
        joint_curves: Curves tables for the joint fits (``--joint --curves``).
        format, **log: the log format and log options of ``joint_curves``, as for :func:`fit`.

    Example::

        >>> laws = goodhart.scale(goodhart.fit([bon_curves, rl_runs]))   # doctest: +SKIP
        >>> print(laws.report())                                         # doctest: +SKIP
    """
    with _Inputs() as io_:
        joint = io_.paths(joint_curves, "curves") if joint_curves is not None else None
        doc, text, warnings = io_.call(
            _goodhart.scale,
            io_.json(fits, "fits"),
            by=by,
            joint_curves=joint,
            format=format,
            log=_log(log),
        )
    _warn(warnings)
    return ScalingResult(json.loads(doc), list(warnings), text)


def predict(
    scaling: Union[ScalingResult, dict, str, "os.PathLike[str]"],
    rm_params: Union[float, Sequence[float]],
    *,
    method: Optional[str] = None,
    kl: Optional[Union[str, Sequence[float]]] = None,
    iterations: Optional[int] = None,
    model: str = "log-linear",
) -> PredictResult:
    """Predicted gold-vs-KL curves of reward models of other sizes (``goodhart predict``).

    Args:
        scaling: a :class:`ScalingResult`, its ``document``, or a scaling JSON file.
        rm_params: the reward-model size(s) to predict (``--rm-params``): a number or a list.
        method: bon or rl (``--method``); kl: the KL grid (``--kl``): ``"start:stop:step"``
            (e.g. ``"0:10:0.5"``) or a list/array of numbers; iterations: RL iterations;
            model: log-linear, power or joint (``--model``).

    The table has one curve per (method, target, rm_params, rm_data, ...): select one before
    plotting it.

    Example::

        >>> p = goodhart.predict(laws, rm_params=3e9, method="bon", kl="0:10:0.5")  # doctest: +SKIP
        >>> t = p.table                                                            # doctest: +SKIP
        >>> one = t[(t.target == "gold") & (t.rm_data == t.rm_data.iloc[0])]       # doctest: +SKIP
        >>> one.sort_values("kl").plot(x="kl", y="gold")                           # doctest: +SKIP
    """
    if isinstance(rm_params, numbers.Real):
        rm_params = [rm_params]
    if isinstance(kl, numbers.Real):
        kl = [kl]
    if kl is not None and not isinstance(kl, str):
        kl = ",".join(repr(float(x)) for x in kl)
    with _Inputs() as io_:
        doc, data, summary, warnings = io_.call(
            _goodhart.predict,
            io_.json(scaling, "scaling"),
            [float(x) for x in rm_params],
            method=method,
            kl=kl,
            iterations=iterations,
            model=model,
        )
    _warn(warnings)
    return PredictResult(json.loads(doc), _read_parquet(data), list(warnings), summary)


def read_log(
    path: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]],
    *,
    format: Optional[str] = None,
    **log: Any,
) -> Any:
    """A trainer log or dump as the canonical Curves or Samples table (``goodhart convert``).

    Args:
        path: the log file(s): TRL ``trainer_state.json``, W&B history, TensorBoard event files,
            veRL logs, best-of-n JSON dumps, or tidy tables.
        format: auto (detect), tidy, trl, wandb, tensorboard, verl or bon-json.
        **log: the log options (below): e.g. ``rm_params``, the reward-model size when the log
            does not say; ``gold_from``, gold evaluations (step, gold) joined to the log on step;
            ``length_key`` or ``kl_unit`` when a warning asks for ``--length-key`` or
            ``--kl-unit``.
    {log}

    Returns:
        the table (pandas DataFrame when pandas is installed, else pyarrow), ready for
        :func:`fit` or :func:`bon`.

    Example::

        >>> runs = goodhart.read_log("trainer_state.json", format="trl", gold_from="gold.csv",
        ...                          rm_params=1e9)                           # doctest: +SKIP
    """
    paths = [os.fspath(p) for p in path] if isinstance(path, (list, tuple)) else [os.fspath(path)]
    with _Inputs() as io_:
        out = io_.out("converted.parquet")
        _kind, _rows, warnings = io_.call(
            _goodhart.read_log,
            paths,
            out,
            format=format,
            log=_log(log),
        )
        table = _plain(pq.read_table(out))
    _warn(warnings)
    return _output(table)


def report(
    curves: Union[PathOrTable, Sequence[PathOrTable]],
    *,
    out: Union[str, "os.PathLike[str]"],
    samples: Optional[Union[PathOrTable, Sequence[PathOrTable]]] = None,
    fits: Optional[Union[FitResult, dict, str, "os.PathLike[str]"]] = None,
    scaling: Optional[Union[ScalingResult, dict, str, "os.PathLike[str]"]] = None,
    format: Optional[str] = None,
    **log: Any,
) -> list:
    """Writes the report (report.html, report.md and the figures) into the folder ``out``
    (``goodhart report``), which must exist; returns the paths written. ``format`` and the
    log options (``**log``) apply to the curves and samples read, as for :func:`fit`.

    Example::

        >>> goodhart.report([bon_curves, rl_runs], out="plots", fits=fits)   # doctest: +SKIP
    """
    with _Inputs() as io_:
        written, notes = io_.call(
            _goodhart.report,
            io_.paths(curves, "curves"),
            os.fspath(out),
            samples=io_.paths(samples, "samples") if samples is not None else None,
            fits=io_.json(fits, "fits") if fits is not None else None,
            scaling=io_.json(scaling, "scaling") if scaling is not None else None,
            format=format,
            log=_log(log),
        )
    _warn(notes)
    return list(written)


def generate_sim(
    out: Union[str, "os.PathLike[str]"],
    *,
    preset: str = "small",
    seed: int = 0,
    prompts: Optional[int] = None,
    samples_per_prompt: Optional[int] = None,
) -> dict:
    """Simulates a world with known truth into the folder ``out`` (``goodhart generate sim``):
    best-of-n samples, RL runs, reward models and the world; returns ``{file name: path}``.

    Example::

        >>> files = goodhart.generate_sim("world", seed=1)                 # doctest: +SKIP
        >>> curves = goodhart.bon(files["bon_samples.parquet"]).table      # doctest: +SKIP
    """
    written = _goodhart.generate_sim(
        os.fspath(out),
        preset=preset,
        seed=seed,
        prompts=prompts,
        samples_per_prompt=samples_per_prompt,
    )
    return {os.path.basename(p): p for p in written}


for _f in (fit, read_log):
    if _f.__doc__:
        _f.__doc__ = _f.__doc__.replace("    {log}\n", _LOG_DOC)

