#!/usr/bin/env bash
# Every GPU measurement of chapter 09 in one run (about 8 minutes on one H100), each written as a
# JSON record under reference/09/gpu/ (device name, versions, date), which the chapter loads and shows.
#
#   bash bench/gpu_run.sh            # from the repository root, on a machine with a CUDA GPU
#
# Needs the full Fashion-MNIST files (python -m nbhelpers data, or NBH_DATA). A step that fails
# is reported and the others still run; the exit status says whether any failed.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=${OUT:-reference/09/gpu}  # a folder of its own: reference/09/*.json are the chapter's verdict records
mkdir -p "$OUT" build/gpu-run
export PYTHONPATH=${PYTHONPATH:-$PWD}
if ! $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_run.sh: no CUDA GPU visible to torch; nothing to measure." >&2
    exit 2
fi
if ! $PY -c "from nbhelpers import fashion_mnist; fashion_mnist(quick=False)" >/dev/null 2>&1; then
    echo "gpu_run.sh: the full Fashion-MNIST files are not found (and cannot be downloaded here): put the four" >&2
    echo "  *-ubyte.gz files in datasets/fashion-mnist/ or point NBH_DATA at them (python -m nbhelpers data)." >&2
    exit 3
fi
failed=0
step() {  # step <name> <seconds> <command...>
    local name=$1 limit=$2; shift 2
    echo "=== $name (at most ${limit} s)"
    local t0=$SECONDS
    if ! timeout "$limit" "$@" 2>&1 | tee "build/gpu-run/$name.log"; then :; fi
    local rc=${PIPESTATUS[0]}
    echo "=== $name: exit $rc after $((SECONDS - t0)) s"
    [ "$rc" -eq 0 ] || failed=1
}
# 1. the fastest recipe: 5 seeds, the final split, and the ablation over 3 seeds (the longest step)
step time-to-accuracy 270 $PY bench/time_to_accuracy.py --device cuda --seeds 5 --ablation-seeds 3 \
    --out "$OUT/time-to-accuracy.json"
# 2. fit's throughput, bf16 + channels-last against fp32, and one step's phases in both
step precision 60 $PY bench/train_throughput.py --precision --rounds 3 --out "$OUT/precision.json"
# 3. torch.compile on and off (compile time shows in the first epoch)
step compile 90 $PY bench/train_throughput.py --compile --out "$OUT/compile.json"
# 4. where a step's time goes: data on the device, a DataLoader, bf16 + channels-last
step profile 45 $PY bench/profile_step.py --device cuda --out "$OUT/profile.json"
# 5. the DDP script on one GPU with nccl (the same command runs N GPUs: --nproc_per_node N)
step ddp-nccl 60 $PY -m torch.distributed.run --standalone --nproc_per_node 1 -m nbhelpers.scale.ddp_train \
    --epochs 2 --out build/gpu-run/ddp
if [ -f build/gpu-run/ddp/rank0.json ]; then
    $PY - "$OUT/ddp.json" <<'PYEOF'
import datetime, json, platform, sys, torch
import nbhelpers
rank0 = json.load(open("build/gpu-run/ddp/rank0.json"))
record = {"bench": "ddp", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
          "device": torch.cuda.get_device_name(0), "backend": "nccl",
          "versions": {"torch": torch.__version__, "python": platform.python_version(),
                       "nbhelpers": nbhelpers.__version__, "cuda": torch.version.cuda}, **rank0}
json.dump(record, open(sys.argv[1], "w"), indent=1)
print("wrote", sys.argv[1])
PYEOF
fi
echo "gpu_run.sh: done in $SECONDS s; records in $OUT/"
exit $failed
