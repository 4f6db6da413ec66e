"""Paired near-peak gamma (dense grid, window KL <= 3x peak) against feat on the same seed and RM, from detail_dense.txt."""
import re, collections, numpy as np
g = collections.defaultdict(dict)
for l in open("detail_dense.txt"):
    m = re.match(r"(\S+)\s+s(\d) rm(\d) \|\s*([\d.]+) \|\s*(\d+) \| (\w) \| ([\d.]+)", l)
    if m: g[m.group(1)][(m.group(2), m.group(3))] = float(m.group(7))
print("variant      | n pairs | median gamma - feat | variant higher in")
for v in g:
    if v == "feat": continue
    k = [c for c in g[v] if c in g["feat"]]; d = np.array([g[v][c] - g["feat"][c] for c in k])
    print(f"{v:12s} | {len(k):2d} | {np.median(d):+.2f} | {(d > 0).sum()}/{len(d)}")
