"""Time to accuracy: the fastest recipe the course teaches on full Fashion-MNIST.

`nbhelpers.train_fast` (FastNet with a whitening layer, batched flips and 2-pixel
translations, label smoothing, SGD-Nesterov with a one-cycle schedule, the weights' moving
average, test-time augmentation with flips and 1-pixel shifts; bf16 and channels-last on a GPU)
over several seeds. Reports test accuracy (mean, min, standard deviation over the seeds), the
training seconds to reach 93% and 94%, timed as airbench times it (after a warm-up run, data
already on the device, scoring not counted), and the seconds from process start to the end of
the first seed's run; then an ablation table that removes one trick at a time. Results go to a
JSON file with the device, versions, date and threads, which chapter 09 loads.

Goals (issue 14): on a 2-core CPU, 93.9% in at most 10 minutes; on one H100, at least 95.0%
(mean of 5 seeds) in at most 10 seconds of training.

Protocol: tune with ``--split tune`` (train on 55,000 images, score the 5,000 held out of the
60,000 training images); report with ``--split final`` (train on all 60,000, score the
10,000 test images). The split is printed and recorded.

    python bench/time_to_accuracy.py --device cpu --threads 2 --seeds 3 --out build/bench/tta-cpu.json
    python bench/time_to_accuracy.py --device cuda --seeds 5 --out reference/09/gpu/time-to-accuracy.json
    python bench/time_to_accuracy.py --quick          # the shipped subset, 1 epoch, 1 seed: a smoke run
"""

import time

START = time.perf_counter()  # before the imports: the time "from process start" counts them

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

import nbhelpers  # noqa: E402
from nbhelpers import ablation, fashion_mnist, pipeline, time_to, train_fast  # noqa: E402
from nbhelpers.scale.recipe import TRICKS  # noqa: E402

# CPU: chosen with one-thread timing probes on the 2-core test machine, the other core busy with
# another job (train 55,000, score the 5,000 held-out validation images, batch 256, lr 0.1):
#   one SGD step, batch 256: FastNet (24, 48, 96) 580 images/s, (32, 64, 128) 385, (48, 96, 96) 250,
#     (64, 128, 128) 123; the course's ResNet(widths=(16, 32, 64)) 387
#   the whole recipe, widths (24, 48, 96): 1 epoch 74.7 s of training, 89.7% valid; 2 epochs 147 s, 91.2%
#   without the whitening layer (a trained 3 x 3 stem): 1 epoch 96.6 s, 89.1%
# Two idle threads (the same machine, nothing else running), the whole recipe for 2 epochs on 2,048 or
# 4,096 images: FastNet (16, 32, 64) 2,179-2,285 images/s, (24, 48, 96) 1,291-1,293, (32, 64, 128)
# 791-811, at batch 256 and 512 alike. So an epoch of all 60,000 images at (24, 48, 96) takes about
# 47 s, and 12 epochs fit in 10 minutes of training. Tune split (55,000 / 5,000), 2 threads, 13 epochs,
# seed 0: validation accuracy 93.76% (93.44% after 8 of them); the final split, 1 thread, 10 epochs:
# 93.47% test accuracy. A run of 12 epochs, 2 idle threads, 3 seeds, the final split (2026-11-28) reached 93.87%
# on average in 565 s of training: the 93.9% goal missed by 0.03 points.
# Then (2026-11-29) test-time augmentation gained copies shifted 1 pixel up-left and down-right, filled black as
# the training crop fills: on the tune split, 12 epochs, seeds 0 and 1, +0.24 and +0.22 points over flips alone
# (94.20% and 94.02%); the border repeated from the edge, +0.08 and +0.20; reflected, +0.14 and +0.12. That day's
# machine (also "AMD EPYC", 2 cores) trained the recipe about 1.8 times as fast: 12 epochs of 60,000 images in
# 293-317 s on 2 idle threads, to 94.01% on average over 3 seeds (93.87% to 94.21%). With the time to spare, 16
# epochs on the tune split, 1 thread, seeds 0 and 1: 94.46% and 94.38% (+0.26 and +0.36 points over 12 epochs), in
# 664-679 s of training on one thread. The recorded run (reference/09/cpu/time-to-accuracy.json) is that day's, of
# 16 epochs on 2 idle threads; on the first machine 16 epochs would take about 750 s.
# GPU: not probed (no GPU here): wider, more epochs, a larger batch; bench/gpu_run.sh measures it.
DEFAULTS = {"cpu": dict(epochs=16, widths=(24, 48, 96), batch_size=256, lr=0.1),
            "cuda": dict(epochs=16, widths=(64, 128, 256), batch_size=512, lr=0.2)}


def seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} s"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} logical cores)"
    except OSError:
        pass
    return platform.processor() or "CPU"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time to accuracy of the course's fastest recipe")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seeds", type=int, default=None, help="default: 3 on the CPU, 5 on a GPU")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--widths", type=int, nargs="+", default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--split", choices=["tune", "final"], default="final")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the net (pays on a GPU, if at all)")
    parser.add_argument("--ablation-seeds", type=int, default=None, help="0: no ablation (default: --seeds)")
    parser.add_argument("--quick", action="store_true", help="the shipped subset, 1 epoch, 1 seed, tiny net")
    parser.add_argument("--out", type=Path, default=None, help="the JSON record (default: build/bench/...)")
    return parser.parse_args()


def main() -> dict:
    args = parse()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("time_to_accuracy: --device cuda needs a CUDA GPU; this torch sees none.")
    recipe = dict(DEFAULTS[device.type])
    recipe.update({k: v for k, v in dict(epochs=args.epochs, widths=args.widths, batch_size=args.batch_size,
                                         lr=args.lr).items() if v is not None})
    seeds = args.seeds or (5 if device.type == "cuda" else 3)
    if args.quick:
        recipe.update(epochs=1, widths=(8, 16, 32))
        seeds = 1
    recipe["widths"] = tuple(recipe["widths"])
    bundle = fashion_mnist(quick=args.quick, valid_size=5000 if not args.quick else 500, seed=0)
    if args.split == "tune":
        train, scored, split = bundle.train, bundle.valid, "train on the training set less a held-out validation split"
    else:
        train = (torch.cat([bundle.train[0], bundle.valid[0]]), torch.cat([bundle.train[1], bundle.valid[1]]))
        scored, split = bundle.test, "train on all training images, score the test set"
    train = tuple(t.to(device) for t in train)  # on the device before any clock starts
    scored = (scored[0].to(device), scored[1])
    print(f"split: {args.split} ({split}): {len(train[1]):,} training, {len(scored[1]):,} scored images")
    augment = pipeline(hflip=True, crop=2)
    options = dict(recipe, augment=augment, device=device, compile=args.compile)
    print(f"device {device_name(device)}, torch {torch.__version__}, {torch.get_num_threads()} threads; recipe {recipe}")
    warm = train_fast((train[0][:4 * recipe["batch_size"]], train[1][:4 * recipe["batch_size"]]),
                      (scored[0][:256], scored[1][:256]), **{**options, "epochs": 1})
    print(f"warm-up: {warm['seconds']:.1f} s")
    runs, first_from_start = [], None
    for seed in range(seeds):
        run = train_fast(train, scored, **options, seed=seed)
        first_from_start = first_from_start or time.perf_counter() - START
        runs.append({"seed": seed, "accuracy": run["accuracy"], "train_seconds": run["train_seconds"],
                     "seconds": run["seconds"], "curve": run["curve"],
                     "to_93": time_to(run["curve"], 0.93), "to_94": time_to(run["curve"], 0.94)})
        print(f"  seed {seed}: accuracy {run['accuracy']:.2%}, {run['train_seconds']:.1f} s training "
              f"(to 93%: {seconds(runs[-1]['to_93'])}, to 94%: {seconds(runs[-1]['to_94'])}), {run['seconds']:.1f} s in all")
    accuracies = [r["accuracy"] for r in runs]
    summary = {"accuracy_mean": statistics.mean(accuracies), "accuracy_min": min(accuracies),
               "accuracy_std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
               "train_seconds_median": statistics.median(r["train_seconds"] for r in runs),
               "seconds_from_process_start_first_run": first_from_start}
    for goal in ("93", "94"):
        reached = [r[f"to_{goal}"] for r in runs if r[f"to_{goal}"] is not None]
        summary[f"seeds_reaching_{goal}"] = len(reached)
        summary[f"seconds_to_{goal}_median"] = statistics.median(reached) if reached else None
    print("summary: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items()))
    table = None
    ablation_seeds = seeds if args.ablation_seeds is None else args.ablation_seeds
    if ablation_seeds:
        remove = [t for t in TRICKS if t != "bf16 (GPU)" or device.type == "cuda"]
        table = ablation(train, scored, seeds=range(ablation_seeds), remove=remove, **options)
        means = table.groupby("removed", sort=False)[["accuracy", "train_seconds"]].mean()
        means["accuracy_change"] = means["accuracy"] - means.loc["none", "accuracy"]
        print("ablation (mean over seeds; 'none' is the whole recipe):")
        print(means.to_string(float_format=lambda v: f"{v:.4f}"))
    record = {"bench": "time_to_accuracy", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
              "load_average_at_end": os.getloadavg(),  # other jobs on the machine slow every time above
              "device": device_name(device), "device_type": device.type, "threads": torch.get_num_threads(),
              "versions": {"torch": torch.__version__, "python": platform.python_version(),
                           "nbhelpers": nbhelpers.__version__, "cuda": torch.version.cuda},
              "split": {"name": args.split, "words": split, "train_images": len(train[1]),
                        "scored_images": len(scored[1])},
              "quick": args.quick, "recipe": {**recipe, "augment": repr(augment), "compile": args.compile},
              "runs": runs, "summary": summary,
              "ablation": None if table is None else table.drop(columns="correct").to_dict(orient="records")}
    out = args.out or Path("build/bench") / f"time_to_accuracy-{device.type}{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    tmp.write_text(json.dumps(record, indent=1, default=str))
    tmp.replace(out)
    print(f"wrote {out}")
    return record


if __name__ == "__main__":
    main()
