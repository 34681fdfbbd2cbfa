#!/usr/bin/env bash
# GPU device check: the GPU parity tests, then the three GPU benchmarks, then one summary.
#
# Run from anywhere; it works in the repository root with PYTHONPATH=platform (actorflow need
# not be installed; Ray and Gymnasium are not needed). Each step runs under `timeout` (total
# under 8 minutes); a failing step does not stop the others. JSON lines of the benchmarks and
# the pytest log go to $OUT/ when OUT is set. Exits non-zero if anything failed.
#
#   scripts/device-check.sh                          # on a machine with a CUDA GPU
#   DEVICE_CHECK_CPU_SMOKE=1 scripts/device-check.sh # CPU smoke run of the same logic
set -u
cd "$(dirname "$0")/.." || exit 2
export PYTHONPATH="platform${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python}"
SMOKE="${DEVICE_CHECK_CPU_SMOKE:-0}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
RESULTS="${OUT:-$WORK}"
mkdir -p "$RESULTS"

if [ "$SMOKE" = "1" ]; then
    DEVICE=cpu
    echo "== device-check: CPU smoke run (DEVICE_CHECK_CPU_SMOKE=1): GPU tests skip, benchmarks run small on the CPU"
else
    DEVICE=cuda
    if ! "$PY" - <<'EOF'
import sys
try:
    import cupy
    n = cupy.cuda.runtime.getDeviceCount()
except Exception as e:  # no CuPy, no driver, no device
    print(f"device-check: no CUDA device ({type(e).__name__}: {e})", file=sys.stderr)
    sys.exit(1)
sys.exit(0 if n > 0 else 1)
EOF
    then
        echo "device-check: no CUDA device: nothing to check here (DEVICE_CHECK_CPU_SMOKE=1 runs the CPU smoke version)"
        exit 2
    fi
    nvidia-smi -L || echo "(nvidia-smi not available)"
fi
"$PY" - <<'EOF'
import platform as p, numpy
versions = [f"python {p.python_version()}", f"numpy {numpy.__version__}"]
for name in ("cupy", "torch"):
    try:
        versions.append(f"{name} {__import__(name).__version__}")
    except Exception:
        versions.append(f"{name} absent")
try:
    import cupy
    versions.append(f"CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}")
except Exception:
    pass
print("== versions: " + ", ".join(versions))
EOF

failed=0
status_tests="not run"
# -- tests ---------------------------------------------------------------------------------
echo "== pytest tests/platform/test_gpu.py"
timeout 230 "$PY" -m pytest -q -p no:cacheprovider tests/platform/test_gpu.py \
    > "$RESULTS/pytest.txt" 2>&1
rc=$?
tail -n 25 "$RESULTS/pytest.txt"
status_tests="$(grep -E '[0-9]+ (passed|failed|skipped|error)' "$RESULTS/pytest.txt" | tail -n 1 | sed 's/=//g; s/^ *//; s/ *$//')"
[ -n "$status_tests" ] || status_tests="no summary (rc $rc)"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
    failed=1
    [ "$rc" -eq 124 ] && status_tests="TIMEOUT after 230 s; $status_tests"
fi

# -- benchmarks ----------------------------------------------------------------------------
run_bench() {  # name, timeout seconds, extra args...
    local name="$1" limit="$2"
    shift 2
    echo "== benchmarks/$name.py --device $DEVICE $*"
    timeout "$limit" "$PY" "benchmarks/$name.py" --device "$DEVICE" "$@" \
        > "$RESULTS/$name.json" 2> "$RESULTS/$name.err"
    local rc=$?
    cat "$RESULTS/$name.json"
    if [ "$rc" -ne 0 ]; then
        tail -n 15 "$RESULTS/$name.err"
        echo "{\"benchmark\": \"$name\", \"error\": \"exit status $rc$([ "$rc" -eq 124 ] && echo ', timeout')\"}" \
            > "$RESULTS/$name.json"
        failed=1
    fi
}
if [ "$DEVICE" = "cuda" ]; then
    run_bench gpu_alexnet 80 --rounds 5
    run_bench gpu_cnn_step 70 --rounds 5
    run_bench gpu_matmul 50 --rounds 5
else
    run_bench gpu_alexnet 120 --rounds 2
    run_bench gpu_cnn_step 120 --rounds 2
    run_bench gpu_matmul 60 --rounds 2
fi

# -- summary -------------------------------------------------------------------------------
"$PY" - "$RESULTS" "$status_tests" <<'EOF'
import json, os, sys
results, tests = sys.argv[1], sys.argv[2]

def load(name):
    try:
        with open(os.path.join(results, name + ".json")) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception as e:
        return {"error": f"no result ({type(e).__name__})"}

rows = [("tests/platform/test_gpu.py", tests, "all pass")]
r = load("gpu_alexnet")
rows.append(("gpu_alexnet s/batch", r.get("error") or
             f"{r['seconds_per_batch']['actorflow']:.4f} s (torch "
             f"{r['seconds_per_batch'].get('torch', float('nan')):.4f} s, "
             f"x{r.get('actorflow_vs_torch')} of torch speed; book GTX 1080 {r['book_gtx1080_s']} s)",
             "vs book 0.078 s"))
r = load("gpu_cnn_step")
rows.append(("gpu_cnn_step images/s", r.get("error") or
             f"{r['images_per_s']['actorflow']:.0f} (torch {r['images_per_s'].get('torch', 'absent')}, "
             f"ratio {r.get('actorflow_vs_torch')})", ">= 0.5x torch"))
r = load("gpu_matmul")
rows.append(("gpu_matmul TFLOP/s", r.get("error") or
             f"{r['tflops']['actorflow']} (bare {r['tflops']['bare']}, ratio {r['actorflow_vs_bare']})",
             ">= 0.9x bare cupy.matmul"))
w = max(len(a) for a, _, _ in rows)
print("\n== summary")
for a, b, c in rows:
    print(f"{a:<{w}}  {b}   [target: {c}]")
EOF
if [ "$failed" -ne 0 ]; then
    echo "device-check: FAILED (see above)"
    exit 1
fi
echo "device-check: OK"
