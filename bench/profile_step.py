"""Where one training step's time goes (`time_breakdown`) for the course's small ResNet, with
the data on the device and through a DataLoader, in float32 and (on a GPU) bf16 +
channels-last; written as a JSON record for chapter 09.

    python bench/profile_step.py [--device cuda] [--quick] [--out reference/09/gpu/profile.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
from pathlib import Path

import torch

import nbhelpers
from nbhelpers import ResNet, fashion_mnist, time_breakdown


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    x, y = fashion_mnist(quick=args.quick).train
    x, y = x[:8192], y[:8192]
    settings = {"on the device, fp32": dict(loader="device", amp="off", channels_last=False),
                "DataLoader, fp32": dict(loader="dataloader", amp="off", channels_last=False)}
    if device.type == "cuda":
        settings["on the device, bf16 + channels-last"] = dict(loader="device", amp="bf16", channels_last=True)
    tables = {}
    for name, options in settings.items():
        table = time_breakdown(ResNet(), (x, y), batch_size=args.batch_size, steps=args.steps, warmup=5,
                               device=device, **options)
        tables[name] = {"phases": table.to_dict(orient="list"), "step_ms": table.attrs["step_ms"],
                        "ops": table.attrs["ops"].to_dict(orient="list")}
        print(f"{name}: {table.attrs['step_ms']:.2f} ms per step; " +
              ", ".join(f"{p} {m:.2f}" for p, m in zip(table["phase"], table["ms"])))
    record = {"bench": "profile", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
              "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
              "versions": {"torch": torch.__version__, "python": platform.python_version(),
                           "nbhelpers": nbhelpers.__version__, "cuda": torch.version.cuda},
              "threads": torch.get_num_threads(), "batch_size": args.batch_size, "model": "ResNet()",
              "settings": tables}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".part").write_text(json.dumps(record, indent=1))
        args.out.with_suffix(".part").replace(args.out)
        print(f"wrote {args.out}")
    return record


if __name__ == "__main__":
    main()
