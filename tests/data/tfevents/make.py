#!/usr/bin/env python3
"""Writes the TensorBoard fixture of tests/it/tfevents.rs with the `tensorboard` Python package
(pip install tensorboard; made with tensorboard 2.21.0), and the CSV files TensorBoard's UI
exports for the same scalars.

    logs/rm125m/events.out.tfevents.*   one run as TRL writes it through transformers'
                                        TensorBoardCallback (PyTorch SummaryWriter.add_scalar:
                                        TF1-style `simple_value`, no metadata)
    logs/rm350m/events.out.tfevents.*   one run in TF2 style (`tensorboard.summary.Writer`:
                                        float32 tensors with plugin "scalars"), restarted from
                                        its step-100 checkpoint: a second event file rewrites
                                        steps 110 and 120 with other values and later wall times
    csv/run-<run>-tag-<tag>.csv         the UI's "download CSV" of every scalar tag, made by the
                                        UI's own code path (ScalarsPlugin.scalars_impl over a
                                        MultiplexerDataProvider, output_format csv)
    gold.csv                            run,step,gold: gold RM evaluations, with the step-0
                                        baseline TRL never logs
    meta.json                           goodhart sidecar: rm_params per run

The runs follow TRL 1.16's GRPOTrainer logging: tags `train/<key>` for loss, grad_norm,
learning_rate, num_tokens, completions/{mean,min,max}_length, rewards/<fn>/{mean,std}, reward,
reward_std, frac_reward_zero_std, kl (per-token mean), entropy, epoch; logging every 10 steps
from step 10 (no step 0); and the final summary (train_runtime, ..., train_loss, epoch again)
at the last step. Per-sequence KL is kl x mean_length; gold follows the RL law
gold = d (alpha - beta ln d), d = sqrt(per-sequence KL).

Deterministic: wall times are fixed, the writers' clock is pinned and the files are renamed to
fixed names. Run from this folder: /path/to/venv/bin/python make.py
"""
import csv
import math
import os
import shutil

from tensorboard.backend.event_processing import data_provider as dp
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins import base_plugin
from tensorboard.plugins.scalar import scalars_plugin
from tensorboard import context as tb_context
from tensorboard.summary.writer import event_file_writer
import tensorboard.summary as tb_summary

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1_764_400_000.0  # wall time of the first event


class Clock:
    """The writers' clock, pinned so that the file_version records are reproducible."""

    now = T0

    @staticmethod
    def time():
        return Clock.now


event_file_writer.time = Clock


def law(kl_seq, alpha, beta):
    if kl_seq <= 0:
        return 0.0
    d = math.sqrt(kl_seq)
    return d * (alpha - beta * math.log(d))


RUNS = {
    # run: (rm_params, kl growth, alpha, beta)
    "rm125m": (1.25e8, 0.0030, 0.9, 0.30),
    "rm350m": (3.5e8, 0.0025, 1.0, 0.25),
}
STEPS = list(range(10, 201, 10))


def train_logs(run, step, wiggle=0.0):
    """The scalars TRL's GRPOTrainer logs at one step (without the train/ prefix)."""
    _, growth, _, _ = RUNS[run]
    kl_tok = growth * math.sqrt(step) + wiggle
    mean_len = 180.0 + 0.3 * step
    reward = 0.4 + 0.5 * math.sqrt(kl_tok * mean_len) - 0.01 * step / 10
    return {
        "loss": 0.01 * math.sin(step),
        "grad_norm": 0.5 + 0.001 * step,
        "learning_rate": 1e-6 * (1 - step / 200),
        "num_tokens": 4096.0 * step,
        "completions/mean_length": mean_len,
        "completions/min_length": mean_len - 60,
        "completions/max_length": mean_len + 100,
        "rewards/accuracy_reward/mean": reward,
        "rewards/accuracy_reward/std": 0.2,
        "reward": reward,
        "reward_std": 0.2,
        "frac_reward_zero_std": 0.05,
        "kl": kl_tok,
        "entropy": 0.6 - 0.001 * step,
        "epoch": step / 200,
    }


def summary_logs(step):
    """transformers' end-of-training entry, at the last step."""
    return {
        "train_runtime": 1234.5,
        "train_samples_per_second": 2.1,
        "train_steps_per_second": 0.16,
        "total_flos": 0.0,
        "train_loss": 0.004,
        "epoch": step / 200,
    }


def wall(step, offset=0.0):
    return T0 + 10.0 * step + offset


def fixed_names(folder, first):
    """Renames the event files of a folder (in creation order) to fixed names."""
    names = sorted(os.listdir(folder))
    for i, n in enumerate(names):
        os.rename(os.path.join(folder, n),
                  os.path.join(folder, "events.out.tfevents.%d.fixture.%d.0" % (first + i, i)))


def write_tf1(folder):
    """PyTorch's SummaryWriter.add_scalar: an Event per scalar, simple_value, no metadata."""
    Clock.now = wall(0)
    w = event_file_writer.EventFileWriter(folder)
    for step in STEPS:
        for k, v in train_logs("rm125m", step).items():
            ev = event_pb2.Event(wall_time=wall(step), step=step)
            ev.summary.value.add(tag="train/" + k, simple_value=v)
            w.add_event(ev)
    for k, v in summary_logs(STEPS[-1]).items():
        ev = event_pb2.Event(wall_time=wall(STEPS[-1], 5.0), step=STEPS[-1])
        ev.summary.value.add(tag="train/" + k, simple_value=v)
        w.add_event(ev)
    w.close()
    fixed_names(folder, int(T0))


def write_tf2(folder):
    """tensorboard.summary.Writer: float32 scalar tensors with plugin "scalars"; a restart."""
    Clock.now = wall(0)
    w = tb_summary.Writer(folder)
    for step in [s for s in STEPS if s <= 120]:
        for k, v in train_logs("rm350m", step).items():
            w.add_scalar("train/" + k, v, step, wall_time=wall(step))
    w.close()
    # The restart: the checkpoint of step 100; steps 110 and 120 are trained and logged again.
    Clock.now = wall(130, 600.0)
    w = tb_summary.Writer(folder)
    for step in [s for s in STEPS if s > 100]:
        for k, v in train_logs("rm350m", step, wiggle=0.0004).items():
            w.add_scalar("train/" + k, v, step, wall_time=wall(step, 600.0))
    for k, v in summary_logs(STEPS[-1]).items():
        w.add_scalar("train/" + k, v, STEPS[-1], wall_time=wall(STEPS[-1], 605.0))
    w.close()
    fixed_names(folder, int(T0) + 1)


def export_csv(logdir, out):
    """The UI's "download CSV" of every scalar tag of every run."""
    multiplexer = pem.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = dp.MultiplexerDataProvider(multiplexer, logdir)
    plugin = scalars_plugin.ScalarsPlugin(
        base_plugin.TBContext(logdir=logdir, multiplexer=multiplexer, data_provider=provider))
    ctx = tb_context.RequestContext()
    tags = provider.list_scalars(ctx, experiment_id="", plugin_name="scalars")
    for run in sorted(tags):
        for tag in sorted(tags[run]):
            body, mime = plugin.scalars_impl(ctx, tag, run, "", scalars_plugin.OutputFormat.CSV)
            assert mime == "text/csv"
            # The UI names the download run-<run>-tag-<tag>.csv with '/' as '_'.
            name = ("run-%s-tag-%s.csv" % (run, tag)).replace("/", "_")
            with open(os.path.join(out, name), "w", newline="") as f:
                f.write(body)


def main():
    for d in ["logs", "csv"]:
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    os.makedirs(os.path.join(HERE, "csv"))
    write_tf1(os.path.join(HERE, "logs", "rm125m"))
    write_tf2(os.path.join(HERE, "logs", "rm350m"))
    export_csv(os.path.join(HERE, "logs"), os.path.join(HERE, "csv"))
    with open(os.path.join(HERE, "gold.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["run", "step", "gold"])
        for run, (_, _, alpha, beta) in RUNS.items():
            w.writerow([run, 0, 0.0])
            for step in STEPS[1::2]:
                wiggle = 0.0004 if run == "rm350m" and step > 100 else 0.0
                t = train_logs(run, step, wiggle)
                w.writerow([run, step, round(law(t["kl"] * t["completions/mean_length"], alpha, beta), 6)])
    with open(os.path.join(HERE, "meta.json"), "w") as f:
        f.write('{"runs": {"rm125m": {"rm_params": 1.25e8}, "rm350m": {"rm_params": 3.5e8}}}\n')


if __name__ == "__main__":
    main()


def bad_corpus():
    """The event files of the bad-input corpus (../bad/, replayed by tests/it/bad_corpus.rs)."""
    import struct
    from tensorboard.summary.writer.record_writer import masked_crc32c

    def record(data):
        length = struct.pack("<Q", len(data))
        return (length + struct.pack("<I", masked_crc32c(length)) + data
                + struct.pack("<I", masked_crc32c(data)))

    good = os.path.join(HERE, "logs", "rm125m")
    with open(os.path.join(good, sorted(os.listdir(good))[0]), "rb") as f:
        whole = f.read()
    first = record(event_pb2.Event(wall_time=T0, file_version="brain.Event:2").SerializeToString())
    scalar = event_pb2.Event(wall_time=T0 + 1, step=10)
    scalar.summary.value.add(tag="train/kl", simple_value=0.01)
    second = record(scalar.SerializeToString())
    bad = os.path.join(HERE, "..", "bad")
    files = {
        # The good file cut in the middle of a record's data.
        "events.out.tfevents.truncated": whole[: len(whole) // 2],
        # The good file cut in the middle of the second record's header.
        "events.out.tfevents.truncated_header": whole[: 16 + struct.unpack("<Q", whole[:8])[0] + 5],
        # Record 1's length CRC changed.
        "events.out.tfevents.bad_length_crc": first + second[:8] + bytes([second[8] ^ 0xFF]) + second[9:],
        # Record 1's data changed (one bit), its CRC kept.
        "events.out.tfevents.bad_data_crc": first + second[:20] + bytes([second[20] ^ 0x01]) + second[21:],
        # Well framed, but the data is not an Event protobuf.
        "events.out.tfevents.not_protobuf": first + record(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
        # Only the file-version record: no scalar.
        "events.out.tfevents.no_scalars": first,
        "events.out.tfevents.empty": b"",
    }
    for name, data in files.items():
        with open(os.path.join(bad, name), "wb") as f:
            f.write(data)


def fuzz_seeds():
    """Seeds of the `tfevents` fuzz target (fuzz/corpus/tfevents/): a PPO-style run whose
    objective/kl and objective/scores read into a curve (the target's gold key is
    objective/scores), in TF1 and TF2 style."""
    out = os.path.join(HERE, "..", "..", "..", "fuzz", "corpus", "tfevents")
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(HERE, "seed-tmp")
    for style in ["tf1", "tf2"]:
        shutil.rmtree(tmp, ignore_errors=True)
        Clock.now = wall(0)
        if style == "tf1":
            w = event_file_writer.EventFileWriter(tmp)
        else:
            w = tb_summary.Writer(tmp)
        for step in range(0, 201, 20):
            kl = 0.05 * step
            for tag, v in [("objective/kl", kl), ("objective/scores", 0.8 * math.sqrt(kl) - 0.05 * kl)]:
                if style == "tf1":
                    ev = event_pb2.Event(wall_time=wall(step), step=step)
                    ev.summary.value.add(tag=tag, simple_value=v)
                    w.add_event(ev)
                else:
                    w.add_scalar(tag, v, step, wall_time=wall(step))
        w.close()
        (name,) = os.listdir(tmp)
        shutil.move(os.path.join(tmp, name), os.path.join(out, "seed_ppo_" + style))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    bad_corpus()
    fuzz_seeds()
