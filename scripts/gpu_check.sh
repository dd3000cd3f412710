#!/usr/bin/env bash
# The GPU checks in one prepared run, for a machine with an NVIDIA GPU:
#   1. the CuPy tests (tests/test_cupy.py: CuPy == NumPy for every optimizer, the CUDA kernels ==
#      the readable path, Santa's draws the same on the GPU as on the CPU) and tests/test_gpu.py
#      (the kernels on numba's simulator, and compiled to PTX);
#   2. benchmarks/bench_engine.py --backend cupy: the kernels' point-steps/s next to torch and
#      optax on the same GPU, and the fraction of the card's FP64 limit, into results-gpu.{json,md}.
#
#   bash scripts/gpu_check.sh [OUTDIR]        # default OUTDIR: benchmarks/
#
# Environment: PYTHON (default python3), OPTIMIZERS and SIZES (the benchmark's subset; default
# below: every optimizer with an optax twin, plus Eve and SantaE, at 10^4 and 10^7 starts),
# REPEATS (default 3). It needs CuPy, numba-cuda and optviz's own requirements: where they are
# missing it runs `pip install -e ".[gpu]"`; on a machine without a network, wheels put in .whl/
# are installed from there instead (e.g. array-api-compat, the one requirement a CUDA image with
# CuPy, numba and numba-cuda usually lacks). Exit status: 0 when the tests and the benchmark ran
# and passed, 1 when either failed, 2 when nothing could run (no usable GPU or packages).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks}
py=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export OPTVIZ_CACHE_DIR=${OPTVIZ_CACHE_DIR:-$(mktemp -d)}  # a cold cache: compile times are real

needs="import cupy, numba.cuda, array_api_compat, sympy, numba"
if ! "$py" -c "$needs" 2>/dev/null; then
    if compgen -G ".whl/*.whl" >/dev/null; then
        "$py" -m pip install -q --no-index --no-deps --no-compile --target /tmp/optviz-site .whl/*.whl \
            && export PYTHONPATH="$PYTHONPATH:/tmp/optviz-site"
    else
        "$py" -m pip install -q -e ".[gpu]"
    fi
    if ! "$py" -c "$needs" 2>/dev/null; then
        echo "gpu_check: missing packages: $("$py" -c "$needs" 2>&1 | tail -1)" >&2
        exit 2
    fi
fi
if ! "$py" -c "import sys, optviz; ok, why = optviz.gpu_status(); print(why); sys.exit(not ok)"; then
    echo "gpu_check: no usable GPU (see the line above)" >&2
    exit 2
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total \
    --format=csv,noheader
"$py" -c "import cupy, numba, numba_cuda; print('cupy', cupy.__version__, '| numba', numba.__version__,
          '| numba-cuda', numba_cuda.__version__)" 2>/dev/null || true

status=0
echo "== tests: tests/test_cupy.py tests/test_gpu.py"
"$py" -m pytest -q -p no:cacheprovider -rs tests/test_cupy.py tests/test_gpu.py 2>&1 \
    | tee "$out/gpu-tests.log" || status=1

echo "== benchmark: bench_engine.py --backend cupy"
read -r -a optimizers <<<"${OPTIMIZERS:-SGD MSGD NAG AdaGrad RMSprop AdaDelta Adam AdaMax Nadam AMSGrad Eve SantaE}"
read -r -a sizes <<<"${SIZES:-10000 10000000}"
"$py" benchmarks/bench_engine.py --backend cupy --optimizers "${optimizers[@]}" --sizes "${sizes[@]}" \
    --repeats "${REPEATS:-3}" --out "$out/results-gpu.json" 2>&1 \
    | tee "$out/gpu-bench.log" || status=1
exit $status
