#!/usr/bin/env python3
"""Writes the adapter fixtures of tests/it/adapters.rs from the documented layouts of each log
format (../../../../shared/PAPER.md, "What real logs look like"), with gold scores from a known
law so that fits must recover known coefficients:

    RL:  gold = d * (alpha - beta * ln d),  d = sqrt(KL per sequence)

Run from this folder: python3 make_fixtures.py (deterministic; no randomness)."""
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def rl(kl, alpha, beta):
    if kl == 0:
        return 0.0
    d = math.sqrt(kl)
    return d * (alpha - beta * math.log(d))


def write(rel, text):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


# 1. TRL PPO trainer_state.json: objective/kl (per sequence), objective/scores, bare NaN at
#    steps 50 (kl) and 130 (scores), an eval-less final summary entry; gold in gold.csv.
hist = []
for step in range(0, 201, 10):
    kl = 0.05 * step
    e = {"epoch": step / 200, "step": step, "objective/kl": kl,
         "objective/scores": 0.8 * math.sqrt(kl), "objective/rlhf_reward": 0.8 * math.sqrt(kl) - 0.05 * kl,
         "loss": 0.1, "learning_rate": 1e-5}
    hist.append(e)
hist.append({"epoch": 1.0, "step": 200, "train_runtime": 1234.5, "train_loss": 0.1})
text = json.dumps({"global_step": 200, "max_steps": 200, "log_history": hist}, indent=2)
# Python's json.dump writes NaN bare: put two in, as a real trainer_state.json has them.
text = text.replace('"objective/kl": 2.5,', '"objective/kl": NaN,', 1)
text = text.replace('"objective/scores": %r,' % (0.8 * math.sqrt(0.05 * 130)), '"objective/scores": NaN,', 1)
assert text.count("NaN") == 2
write("trl_ppo/trainer_state.json", text)
rows = ["step,gold"]
for step in list(range(0, 201, 10)) + [215]:
    rows.append("%d,%r" % (step, rl(0.05 * step, 0.5, 0.2)))
write("trl_ppo/gold.csv", "\n".join(rows) + "\n")

# 2. TRL GRPO: kl (per-token mean), reward, completions/mean_length; the gold eval logged in
#    separate entries of the same step (eval_gold), as Trainer logs eval apart from train.
hist = []
for step in range(0, 201, 10):
    kl_seq = 0.04 * step
    length = 50.0
    hist.append({"step": step, "kl": kl_seq / length, "reward": 0.7 * math.sqrt(kl_seq),
                 "completions/mean_length": length, "loss": 0.0})
    hist.append({"step": step, "eval_gold": rl(kl_seq, 0.4, 0.15)})
write("trl_grpo/trainer_state.json", json.dumps({"log_history": hist}, indent=1))

# 3. W&B panel export: two runs (one with " - " in its name), __MIN/__MAX, empty cells, a NaN
#    cell; keys as reported to W&B (train/ prefix); per-run kl_penalty in the sidecar.
runs = [("ppo - seed 1", 0.05, 0.5, 0.2, 10), ("ppo-b", 0.03, 0.5, 0.25, 20)]
cols = ["Step"]
for name, *_ in runs:
    for m in ["train/objective/kl", "train/objective/scores", "eval/gold"]:
        cols += ["%s - %s" % (name, m), "%s - %s__MIN" % (name, m), "%s - %s__MAX" % (name, m)]
lines = [",".join('"%s"' % c if " " in c else c for c in cols)]
for step in range(0, 201, 10):
    cells = [str(step)]
    for name, rate, a, b, every in runs:
        if step % every:
            cells += [""] * 9
            continue
        kl = rate * step
        vals = [kl, 0.9 * math.sqrt(kl), rl(kl, a, b)]
        for v in vals:
            s = repr(v)
            if name == "ppo-b" and step == 60 and v == vals[2]:
                s = "NaN"
            cells += [s, s, s]
    lines.append(",".join(cells))
write("wandb/export.csv", "\n".join(lines) + "\n")
write("wandb/export.csv.goodhart.json", json.dumps(
    {"method": "rl", "rm_params": 3e8,
     "runs": {"ppo - seed 1": {"kl_penalty": 0}, "ppo-b": {"kl_penalty": 0.1}}}, indent=2) + "\n")

# 4. TensorBoard scalar exports: one file per tag, '/' written as '_' in the file name.
for tag, f in [("objective_kl", lambda kl: kl), ("objective_scores", lambda kl: 0.85 * math.sqrt(kl)),
               ("eval_gold", lambda kl: rl(kl, 0.6, 0.25))]:
    rows = ["Wall time,Step,Value"]
    for step in range(0, 161, 10):
        if tag == "eval_gold" and step % 20:
            continue  # gold is evaluated less often: merged by step
        kl = 0.06 * step
        rows.append("%r,%d,%r" % (1700000000.0 + step, step, f(kl)))
    write("tensorboard/run-ppo-tag-%s.csv" % tag, "\n".join(rows) + "\n")

# 5. veRL file logger JSONL (per-token KL in actor/kl_loss, response_length/mean); gold in a
#    separate JSONL at every 20 steps; metadata in the sidecar.
lines = []
gold = []
for step in range(0, 201, 10):
    kl_seq = 0.05 * step
    length = 40.0
    lines.append(json.dumps({"step": step, "data": {
        "critic/score/mean": 0.75 * math.sqrt(kl_seq), "actor/kl_loss": kl_seq / length,
        "actor/ppo_kl": 0.001, "response_length/mean": length, "actor/entropy": 1.0}}))
    if step % 20 == 0:
        gold.append(json.dumps({"step": step, "gold": rl(kl_seq, 0.55, 0.22)}))
write("verl/metrics.jsonl", "\n".join(lines) + "\n")
write("verl/gold.jsonl", "\n".join(gold) + "\n")
write("verl/metrics.jsonl.goodhart.json", json.dumps({"rm_params": 1e8, "kl_unit": "token"}) + "\n")

# 6. Best-of-n dumps (Coste et al. layout): per prompt answers[N], proxy_scores[N],
#    gold_scores[N]; as a JSON array (with one bare NaN) and as JSON Lines.
recs = []
for p in range(6):
    proxy = [((p * 7 + i * 5) % 11) / 10 for i in range(8)]
    goldv = [((p * 3 + i * 7) % 13) / 10 - 0.5 + 0.3 * x for i, x in enumerate(proxy)]
    recs.append({"prompt": "p%d" % p, "answers": ["a%d" % i for i in range(8)],
                 "proxy_scores": proxy, "gold_scores": goldv})
text = json.dumps(recs, indent=1)
nan_text = json.dumps(recs[5]["gold_scores"][3])
text = text.replace(nan_text + ",", "NaN,", 1) if text.count(nan_text + ",") else text
write("bon/dump.json", text)
write("bon/dump.jsonl", "\n".join(json.dumps(r) for r in recs) + "\n")
