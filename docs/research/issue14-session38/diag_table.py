"""Read the DIAG lines (stderr of `GOODHART_DIAG=1 goodhart generate tokens`) into a CSV and print
selected runs. usage: diag_table.py RAW OUT.csv [width rm_params ...]"""
import sys, pandas as pd, numpy as np
cols = "tag,width,rm_params,rm_data,step,kl,ent,proxy,gold,d_smooth,d_rare_lin,d_rare_turn,d_idio,surprisal,mass_past_turn,kl_past_turn,tv,top1,kl_pos_min,kl_pos_max,norm_col0,norm_rest,kl_only0,gold_only0,proxy_only0,kl_no0,gold_no0,proxy_no0".split(",")
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l.startswith("DIAG,")]
d = pd.DataFrame(rows, columns=cols).drop(columns="tag").apply(pd.to_numeric)
d.to_csv(sys.argv[2], index=False)
pd.set_option("display.width", 250); pd.set_option("display.max_columns", 40)
a = sys.argv[3:]
for w, p in zip(a[::2], a[1::2]):
    c = d[(d.width == int(w)) & (d.rm_params == int(p))].sort_values("step")
    print(f"== width {w} rm_params {p}")
    print(c.drop(columns=["width", "rm_params", "rm_data"]).iloc[::2].round(3).to_string(index=False))
