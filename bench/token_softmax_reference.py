"""The numpy reference for `cargo bench --bench tokens` ("softmax width W"): the position-wise
softmax that every REINFORCE step of `goodhart generate tokens` computes, written the way a
skilled numpy user would (one matrix product for the logits, vectorised exp, log and sums, all
in one process, no Python loop over tokens). T = 8 positions, V = 4096 tokens, as the small
preset. Prints the median of 200 calls per width.

usage: OMP_NUM_THREADS=1 python3 bench/token_softmax_reference.py   (one job per core, as goodhart
       runs its RL jobs; drop OMP_NUM_THREADS to let BLAS use every core)
"""
import time
import numpy as np

T, V = 8, 4096
rng = np.random.default_rng(0)
ranks = np.arange(1, V + 1)
logp0 = np.log(np.tile(1.0 / ranks / (1.0 / ranks).sum(), (T, 1)))


def softmax(a, F):
    """ln pi and pi, (T, V): ln pi0 + a F^T, normalised per position."""
    L = logp0 + a @ F.T
    m = L.max(axis=1, keepdims=True)
    E = np.exp(L - m)
    s = E.sum(axis=1, keepdims=True)
    return L - m - np.log(s), E / s


for width in (8, 32, 128):
    F = rng.standard_normal((V, width))
    a = 0.01 * rng.standard_normal((T, width))
    for _ in range(20):
        softmax(a, F)
    times = []
    for _ in range(200):
        t = time.perf_counter()
        softmax(a, F)
        times.append(time.perf_counter() - t)
    print(f"softmax width {width} (T {T}, V {V}): median {np.median(times) * 1e6:.1f} us")
