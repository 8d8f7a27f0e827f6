#!/bin/sh
# bench/gpu.py's run on a lent GPU machine: the device tool's run with carry [".gpucarry"]
# and the command `sh bench/gpu_device.sh`.  Unpacks what `bench/gpu.py pack` made, lets
# libomptarget find the driver's libcuda, and writes $OUT/gpu.json and $OUT/run.log.
set -e
mkdir -p /tmp/g/build/lib
python3 -c "import tarfile; tarfile.open('.gpucarry/libs.tar.xz').extractall('/tmp/g/build/lib'); tarfile.open('.gpucarry/progs.tar.xz').extractall('/tmp/g/build')"
cuda=$(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')
[ -n "$cuda" ] || cuda=$(find /usr/local/nvidia /usr/lib /usr/lib64 -name libcuda.so.1 2>/dev/null | head -1)
ln -sf "$cuda" /tmp/g/build/lib/libcuda.so
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
PYTHONUNBUFFERED=1 python3 bench/gpu.py run --dir /tmp/g/build --json "$OUT/gpu.json" \
    --budget "${BUDGET:-330}" --timeout 30 --serial-jobs 12 2>&1 | tee "$OUT/run.log"
