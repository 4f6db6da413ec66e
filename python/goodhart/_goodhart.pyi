"""Type stubs of the compiled module goodhart._goodhart (python/src/lib.rs). Use the wrappers
of the package goodhart, which take tables as well as paths and return typed results.

``log`` is a dict of the log options, one per command-line flag: the key ``x_y`` is the flag
``--x-y`` (kl_key, proxy_key, gold_key, step_key, length_key, kl_unit, gold_from,
join_tolerance, meta, method, rm_params, kl_penalty, policy_params, rm_data, run, runs);
``None`` values are not given, and messages name the flags."""

from typing import Any, Dict, List, Optional, Sequence, Tuple

class GoodhartError(Exception):
    """An error of goodhart, with the message the command line prints."""

class InputError(GoodhartError):
    """Bad input or an analysis that cannot be done (the command line exits 1)."""

class UsageError(GoodhartError):
    """A bad option (the command line exits 2)."""

def fit(
    curves: Sequence[str],
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
    reference: Optional[Sequence[str]] = None,
    reference_sd: Optional[Tuple[float, float]] = None,
    format: Optional[str] = None,
    log: Optional[Dict[str, Any]] = None,
) -> Tuple[str, bytes, str, List[str]]:
    """(fits JSON, fits CSV bytes, text report, warnings)."""

def bon(
    samples: Sequence[str],
    n: Optional[Sequence[int]] = None,
    bootstrap: int = 0,
    seed: int = 0,
    kl: str = "analytic",
    common_prompts: Optional[str] = None,
    prompt_values: bool = True,
    format: Optional[str] = None,
    log: Optional[Dict[str, Any]] = None,
) -> Tuple[bytes, List[str]]:
    """(Curves table as Parquet bytes, notes)."""

def bon_partial(
    samples: Sequence[str],
    n: Optional[Sequence[int]] = None,
    bootstrap: int = 0,
    seed: int = 0,
    kl: str = "analytic",
    common_prompts: Optional[str] = None,
    prompt_values: bool = True,
    format: Optional[str] = None,
    log: Optional[Dict[str, Any]] = None,
) -> Tuple[bytes, List[str]]:
    """(partial table as Parquet bytes, notes)."""

def bon_merge(partials: Sequence[str]) -> Tuple[bytes, List[str]]:
    """(Curves table as Parquet bytes, notes)."""

def scale(
    fits: str,
    by: str = "rm_params",
    joint_curves: Optional[Sequence[str]] = None,
    format: Optional[str] = None,
    log: Optional[Dict[str, Any]] = None,
) -> Tuple[str, str, List[str]]:
    """(scaling JSON, text report, warnings)."""

def predict(
    scaling: str,
    rm_params: Sequence[float],
    method: Optional[str] = None,
    kl: Optional[str] = None,
    iterations: Optional[int] = None,
    model: str = "log-linear",
) -> Tuple[str, bytes, str, List[str]]:
    """(predictions JSON, table as Parquet bytes, summary, warnings)."""

def read_log(
    paths_in: Sequence[str],
    out: str,
    format: Optional[str] = None,
    log: Optional[Dict[str, Any]] = None,
) -> Tuple[str, int, List[str]]:
    """(Curves or Samples, rows, warnings); the table is written to out."""

def report(
    curves: Sequence[str],
    out: str,
    samples: Optional[Sequence[str]] = None,
    fits: Optional[str] = None,
    scaling: Optional[str] = None,
    format: Optional[str] = None,
    log: Optional[Dict[str, Any]] = None,
) -> Tuple[List[str], List[str]]:
    """(files written, notes)."""

def generate_sim(
    out: str,
    preset: str = "small",
    seed: int = 0,
    prompts: Optional[int] = None,
    samples_per_prompt: Optional[int] = None,
) -> List[str]:
    """The files written."""

def version() -> str: ...
