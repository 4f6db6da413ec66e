"""goodhart.ray.bon on a local Ray instance over >= 8 blocks equals goodhart.bon on the whole."""

import random

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import goodhart
from conftest import ROOT

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_bon_over_parquet_shards_equals_bon(tmp_path, local_ray):
    import goodhart.ray as gray

    table = pq.read_table(ROOT / "data" / "bon_samples.parquet")
    prompts = sorted(set(table.column("prompt").to_pylist()))
    random.Random(1).shuffle(prompts)
    paths = []
    for k in range(10):
        shard = table.filter(pc.is_in(table["prompt"], pa.array(prompts[k::10])))
        paths.append(tmp_path / f"shard-{k:02}.parquet")
        pq.write_table(shard, paths[-1])
    ds = gray.read_shards(paths).materialize()
    assert ds.num_blocks() == 10
    options = dict(bootstrap=3, seed=4)
    got = gray.bon(ds, **options)
    want = goodhart.bon(table, **options)
    assert got.arrow.equals(want.arrow)
