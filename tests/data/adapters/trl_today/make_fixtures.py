#!/usr/bin/env python3
"""Writes the fixtures of tests/it/trl_today.rs and tests/it/manifest.rs: logs laid out as
today's trainers write them, with gold scores from a known law so that fits must recover it.

Key sets follow the trainers' current source (see src/ingest/adapters/keys.rs for the files and
commits read): TRL's GRPOTrainer logs `kl` (mean over completion tokens), `reward`,
`reward_std`, `frac_reward_zero_std`, `rewards/<func>/mean` and `/std`,
`completions/{mean,min,max}_length`, `entropy`, ...; the Trainer adds `loss`, `grad_norm`,
`learning_rate`, `num_tokens`, `epoch`, `step`. TRL never logs step 0, and the last entry is the
run summary (`train_runtime`, `train_loss`, ...) repeating the last step. TensorBoard tags are
the same keys with a `train/` prefix; its CSV export names a file run-<run>-tag-<tag>.csv with
the tag's '/' written '_'.

    gold = offset + d * (alpha - beta * ln d),  d = sqrt(KL per sequence)

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


def length_at(step):
    # Completions grow during training, as they do under GRPO.
    return 40.0 + step / 10.0


def kl_seq_at(step, rate):
    return rate * step


def grpo_history(rate, proxy_offset, funcs=("rm",)):
    hist = []
    for step in range(10, 201, 10):
        kl_seq = kl_seq_at(step, rate)
        length = length_at(step)
        reward = proxy_offset + 0.8 * math.sqrt(kl_seq)
        e = {"loss": 0.01, "grad_norm": 0.5, "learning_rate": 1e-6 * (1 - step / 200),
             "num_tokens": 1000.0 * step,
             "completions/mean_length": length, "completions/min_length": length - 20,
             "completions/max_length": length + 30, "completions/clipped_ratio": 0.0,
             "completions/mean_terminated_length": length, "completions/min_terminated_length": length - 20,
             "completions/max_terminated_length": length + 30}
        for f in funcs:
            e["rewards/%s/mean" % f] = reward
            e["rewards/%s/std" % f] = 0.3
        e.update({"reward": reward * len(funcs), "reward_std": 0.3, "frac_reward_zero_std": 0.0,
                  "kl": kl_seq / length, "entropy": 1.2, "clip_ratio/low_mean": 0.0,
                  "clip_ratio/low_min": 0.0, "clip_ratio/high_mean": 0.0, "clip_ratio/high_max": 0.0,
                  "clip_ratio/region_mean": 0.0, "epoch": step / 200, "step": step})
        hist.append(e)
    hist.append({"train_runtime": 3600.5, "train_samples_per_second": 1.1, "train_steps_per_second": 0.05,
                 "total_flos": 0.0, "train_loss": 0.01, "epoch": 1.0, "step": 200})
    return hist


def state(hist):
    return json.dumps({"best_metric": None, "best_model_checkpoint": None, "epoch": 1.0,
                       "eval_steps": 500, "global_step": 200, "is_hyper_param_search": False,
                       "is_local_process_zero": True, "is_world_process_zero": True,
                       "log_history": hist, "logging_steps": 10, "max_steps": 200,
                       "num_input_tokens_seen": 200000, "num_train_epochs": 1,
                       "save_steps": 500, "train_batch_size": 8}, indent=2)


# 1. One GRPO run (per-sequence KL 0.25 x step, up to 50 nats; peak of the law at
#    KL = exp(2 (alpha/beta - 1)) = 20.09), a gold file with the step-0 baseline, and the
#    TensorBoard CSV export of every tag.
ALPHA, BETA, OFFSET, RATE = 0.5, 0.2, 1.3, 0.25
hist = grpo_history(RATE, 2.0)
write("grpo/trainer_state.json", state(hist))
rows = ["step,gold"]
for step in [0] + list(range(20, 201, 20)):
    rows.append("%d,%r" % (step, OFFSET + rl(kl_seq_at(step, RATE), ALPHA, BETA)))
write("grpo/gold.csv", "\n".join(rows) + "\n")
tags = {}
for e in hist:
    for k, v in e.items():
        if k == "step" or not isinstance(v, (int, float)):
            continue
        tags.setdefault(k, []).append((e["step"], v))
for k, pts in tags.items():
    name = "tensorboard/run-grpo-tag-train_%s.csv" % k.replace("/", "_")
    lines = ["Wall time,Step,Value"]
    for i, (step, v) in enumerate(pts):
        lines.append("%r,%d,%r" % (1.7e9 + 10.0 * i, step, float(v)))
    write(name, "\n".join(lines) + "\n")

# 2. Three runs, one proxy RM size each, one gold file with a run column (the natural layout),
#    and the manifest.
RUNS = [("rm125m", "1.25e8", 0.55, 0.25, 0.611), ("rm350m", "3.5e8", 0.5, 0.2, 0.528),
        ("rm1b3", "1.3e9", 0.45, 0.15, 0.553)]
gold = ["run,step,gold"]
manifest = ["log,run,rm_params,gold_from"]
for name, size, a, b, offset in RUNS:
    write("three/%s/trainer_state.json" % name, state(grpo_history(RATE, 1.0)))
    for step in [0] + list(range(20, 201, 20)):
        gold.append("%s,%d,%r" % (name, step, offset + rl(kl_seq_at(step, RATE), a, b)))
    manifest.append("%s/trainer_state.json,%s,%s,gold.csv" % (name, name, size))
write("three/gold.csv", "\n".join(gold) + "\n")
write("three/runs.csv", "\n".join(manifest) + "\n")
