#!/usr/bin/env bash
# run.sh of the GPU bundle (scripts/gpu-bundle copies this file): registers NVIDIA's OpenCL driver with the ICD
# loader, runs the OpenCL executor tests and the benches (ours and PyTorch's on the same weights, in one run) and
# writes everything to $OUT. Depends only on the bundle, python3 (with torch and numpy for the peer) and the driver.
# Smaller runs (e.g. a check on PoCL): TIERS=s BATCHES=1,4 READS=global REPS=3 CPU_THREADS=2 run.sh
# The rows' input and output (opencl_bench.py): INPUT=i420|rgb|planar, ROI_SCALE=2, CL_OUTPUT=blend|half|float.
# TESTS_S: the executor tests' time limit (120 s; PoCL compiles every test program afresh here: give it 600).
# HOST_THREADS: the threads that gather the faces' bytes in the OpenCL rows (default: one per CPU, up to 16, as the
# element's default threads=0). TORCH=0 skips the PyTorch peer (its torch.compile rows take minutes).
# SWEEP: TIER:BATCH cases whose settings (the parts a batch runs in, flush spacing, compute queues) are timed in
# alternating rounds before the bench (default m:1,l:16; SWEEP=0 skips it), over SWEEP_CHUNKS (--cl-chunks values,
# default 1,2,4) x SWEEP_FLUSH (--cl-flush-every, default 1,2,4,8,0) x SWEEP_QUEUES (--cl-part-queues, default 1,2) in
# SWEEP_ROUNDS rounds (3) of SWEEP_REPS reps (100).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here/out}
mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1

# The ICD: system-wide when we may write /etc, else through OCL_ICD_VENDORS. Only where NVIDIA's library exists
# (so a test run elsewhere, e.g. on PoCL, leaves the machine's registry alone). By name when the dynamic loader finds
# it, else by its full path.
icd=""
if ldconfig -p 2>/dev/null | grep -q 'libnvidia-opencl.so.1 '; then
  icd=libnvidia-opencl.so.1
else
  icd=$(find /usr/lib /usr/lib64 /usr/local /lib /opt -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n 1)
fi
if [ -n "$icd" ]; then
  if mkdir -p /etc/OpenCL/vendors 2>/dev/null && echo "$icd" > /etc/OpenCL/vendors/nvidia.icd; then
    echo "registered /etc/OpenCL/vendors/nvidia.icd: $icd"
  else
    mkdir -p "$here/icd" && echo "$icd" > "$here/icd/nvidia.icd"
    export OCL_ICD_VENDORS=$here/icd
    echo "registered $icd through OCL_ICD_VENDORS=$OCL_ICD_VENDORS"
  fi
else
  echo "libnvidia-opencl.so.1 not found: using the ICDs already registered"
fi
export LD_LIBRARY_PATH=$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XDG_CACHE_HOME=$OUT/xdg-cache  # the binary cache of this run only (the bench also uses its own folders)
export CUDA_CACHE_PATH=$OUT/nv-cache   # a fresh driver JIT cache, so the cold start is cold
# Stage time limits sum to < 9 min with TORCH=0 or SWEEP=0: the whole run fits one 10-minute command.

{
  echo "date: $(date -u)"; echo "host: $(uname -a)"; cat "$here/SOURCE"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null
  lscpu 2>/dev/null | grep -E "Model name|^CPU\(s\)"; echo "load: $(cat /proc/loadavg)"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
} | tee "$OUT/env.txt"

status=0
echo "== OpenCL executor tests (vs the reference executor, cache, error paths)"
BTY_MODELS=$here/models timeout "${TESTS_S:-120}" "$here/bin/test-engine-opencl" --gtest_output="json:$OUT/tests.json" \
  || { echo "TESTS FAILED (rc $?)"; status=1; }
mkdir -p "$here/no-icd"
BTY_MODELS=$here/models BTY_EXPECT_NO_OPENCL=1 OCL_ICD_VENDORS=$here/no-icd timeout 60 \
  "$here/bin/test-engine-opencl" --gtest_filter='OpenCLNoPlatform.*' || { echo "NO-PLATFORM TEST FAILED"; status=1; }

if [ "${SWEEP:-m:1,l:16}" != 0 ]; then
  echo "== OpenCL host-side settings (parts of a batch, flush spacing), alternating rounds"
  timeout 120 python3 "$here/bench/opencl_bench.py" --bty-bench "$here/bin/bty-bench" --models "$here/models" \
    --sweep "${SWEEP:-m:1,l:16}" --sweep-flush "${SWEEP_FLUSH:-1,2,4,8,0}" \
    --sweep-chunks "${SWEEP_CHUNKS:-1,2,4}" --sweep-queues "${SWEEP_QUEUES:-1,2}" --sweep-rounds "${SWEEP_ROUNDS:-3}" \
    --reps "${SWEEP_REPS:-100}" --reads "${READS:-auto,local,global}" --out "$OUT" \
    --host-threads ${HOST_THREADS:-$(n=$(nproc); echo $((n < 16 ? n : 16)))} \
    --input ${INPUT:-i420} --roi-scale ${ROI_SCALE:-2} --cl-output ${CL_OUTPUT:-blend} \
    --command "run.sh (scripts/gpu-bundle), SWEEP=${SWEEP:-m:1,l:16}" || { echo "OPENCL SWEEP FAILED"; status=1; }
fi

echo "== OpenCL bench (tiers x batch 1/4/16, local and global reads, cold/warm start, CPU pipeline beside)"
timeout 180 python3 "$here/bench/opencl_bench.py" --bty-bench "$here/bin/bty-bench" --models "$here/models" \
  --tiers ${TIERS:-s,m,l} --batches ${BATCHES:-1,4,16} --reads ${READS:-auto,local,global} --reps ${REPS:-50} --cpu-threads ${CPU_THREADS:-4} --layer-times --out "$OUT" \
  --host-threads ${HOST_THREADS:-$(n=$(nproc); echo $((n < 16 ? n : 16)))} \
  --input ${INPUT:-i420} --roi-scale ${ROI_SCALE:-2} --cl-output ${CL_OUTPUT:-blend} \
  --command "run.sh (scripts/gpu-bundle)" || { echo "OPENCL BENCH FAILED"; status=1; }

if [ "${TORCH:-1}" != 0 ]; then
  echo "== PyTorch peer (same weights from the .bmodel files; eager fp32/fp16, torch.compile)"
  timeout 200 python3 "$here/bench/torch_peer.py" --models "$here/models" --bty-bench "$here/bin/bty-bench" \
    --tiers ${TIERS:-s,m,l} --batches ${BATCHES:-1,4,16} --reps ${REPS:-50} --out "$OUT" || { echo "TORCH PEER FAILED"; status=1; }
fi

python3 "$here/bench/gpu_summary.py" --out "$OUT" || status=1
rm -rf "$XDG_CACHE_HOME" "$CUDA_CACHE_PATH"
echo "== done (status $status); results in $OUT"
exit $status
