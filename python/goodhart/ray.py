"""Best-of-n over a dump no single machine holds, on Ray (``pip install './python[ray]'``).

:func:`bon` runs :func:`goodhart.bon_partial` on every block of a ``ray.data.Dataset`` of
samples (``Dataset.map_batches``, one batch per block, on the cluster's workers) and merges the
partial tables with :func:`goodhart.bon_merge` on the driver. The per-prompt best-of-n
estimates are additive across prompts, so the curves equal :func:`goodhart.bon` on the whole
dump, byte for byte, bootstrap replicates and per-prompt columns included.

Each prompt's samples (under one reward model) must lie in one block: split the dump into
Parquet shards by prompt (for example ``prompt % 64``) and read them with :func:`read_shards`
(one block per file, read on the workers; ``ray.data.read_parquet`` may combine or split files).
A prompt found in two blocks is an error naming it (``goodhart.InputError``); then
``whole_prompts=False`` groups the rows by prompt first (a shuffle: slower, any layout).

Example::

    import ray, goodhart.ray
    ray.init()
    ds = goodhart.ray.read_shards(shard_paths)             # Parquet shards split by prompt
    curves = goodhart.ray.bon(ds, n=[1, 2, 4, 8, 16, 32, 64], bootstrap=200, seed=1)
    fits = goodhart.fit(curves.arrow)
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pyarrow as pa

import goodhart

__all__ = ["bon", "read_shards"]

#: The key columns of a Samples table: a pool is one (key, prompt).
KEY_COLUMNS = ("rm_params", "policy_params", "rm_data")


def read_shards(paths: Sequence[str]) -> Any:
    """A ``ray.data.Dataset`` with one block per Parquet file, each read by a Ray task (where
    the file is reachable: a shared file system or object store path pyarrow can open)."""
    import ray
    import pyarrow.parquet as pq

    read = ray.remote(pq.read_table)
    return ray.data.from_arrow_refs([read.remote(str(p)) for p in paths])


def bon(
    dataset: Any,
    *,
    n: Optional[Sequence[int]] = None,
    bootstrap: int = 0,
    seed: int = 0,
    kl: str = "analytic",
    common_prompts: Optional[str] = None,
    prompt_values: bool = True,
    rm_params: Optional[float] = None,
    whole_prompts: bool = True,
) -> "goodhart.BonResult":
    """Best-of-n curves of a ``ray.data.Dataset`` of samples, as :func:`goodhart.bon` gives on
    the whole dump (same options).

    Args:
        dataset: a ``ray.data.Dataset`` with the Samples columns (prompt, proxy, gold, and
            rm_params, policy_params, rm_data when there are several reward models).
        whole_prompts: True (default) when each prompt lies in one block (shards by prompt);
            False groups the rows by prompt first (``groupby(...).map_groups``).

    Returns:
        :class:`goodhart.BonResult`.
    """
    import ray  # the optional extra

    options = dict(
        n=list(n) if n is not None else None,
        bootstrap=bootstrap,
        seed=seed,
        kl=kl,
        common_prompts=common_prompts,
        prompt_values=prompt_values,
        rm_params=rm_params,
    )

    def partial(batch: pa.Table) -> pa.Table:
        if batch.num_rows == 0:
            return pa.table({"pool_size": pa.array([], pa.int64())})
        return goodhart.bon_partial(batch, **options)

    if whole_prompts:
        parts = dataset.map_batches(partial, batch_size=None, batch_format="pyarrow")
    else:
        keys = [c for c in KEY_COLUMNS if c in dataset.schema().names] + ["prompt"]
        parts = dataset.groupby(keys).map_groups(partial, batch_format="pyarrow")
    tables = [t for t in ray.get(parts.to_arrow_refs()) if t.num_rows > 0]
    return goodhart.bon_merge(tables)
