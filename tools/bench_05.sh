#!/usr/bin/env bash
# bench_05.sh [ROUNDS] [BIN_DIR]: chapter 05's multi-head attention forward against PyTorch's.
#
# Alternates build/bin/bench_05_mha (the course's reference, on BLAS products and on chapter 01's loop
# matmul) and tools/bench_05_pytorch.py (torch.nn.MultiheadAttention) for ROUNDS rounds (default 5):
# L = S = 1024, E = 512, 8 heads, float64, one thread each. Both see the same inputs and weights (the
# C++ program writes them, PyTorch reads them and checks it computes the same output to 1e-9 before
# timing), each does one untimed forward and then 3 timed ones per round. Reports the median over
# all rounds of the wall-clock seconds and of the processor seconds (user + system) of each version,
# and the ratios course / PyTorch; also the BLAS forward's products alone (the same shapes, nothing
# else), to show what share of its time they take. Alternating the two spreads the machine's other
# work over both.
#
# Needs Debian's python3-torch (/usr/bin/python3) and a build with the benchmarks (the default).
# Extra flags for both sides go in BENCH_05_FLAGS, e.g. BENCH_05_FLAGS="--length 512". The environment
# reaches both sides alike: e.g. GLIBC_TUNABLES=glibc.malloc.mmap_threshold=2000000000:\
# glibc.malloc.trim_threshold=4000000000 makes glibc keep freed memory for the next allocation
# instead of returning it to the system, so neither side pays page faults for its large matrices
# again in every forward (docs/05-multi_head_attention.md, "How fast", shows both).
set -eu
rounds=${1:-5}
bin_dir=${2:-build/bin}
root=$(cd "$(dirname "$0")/.." && pwd)
flags=${BENCH_05_FLAGS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086
"$bin_dir/bench_05_mha" --repeats 1 --save "$tmp/files" $flags >/dev/null
for ((r = 1; r <= rounds; r++)); do
  # shellcheck disable=SC2086
  "$bin_dir/bench_05_mha" --loop $flags >>"$tmp/times"
  # shellcheck disable=SC2086
  /usr/bin/python3 "$root/tools/bench_05_pytorch.py" --load "$tmp/files" $flags >>"$tmp/times"
  echo "round $r of $rounds done" >&2
done
grep '^#' "$tmp/times" | sort -u
/usr/bin/python3 - "$tmp/times" "$rounds" <<'EOF'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    name, wall, cpu = line.split()
    times.setdefault(name, []).append((float(wall), float(cpu)))
median = {name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
          for name, t in times.items()}
print(f"medians over {sys.argv[2]} rounds ({len(times['pytorch'])} timings each):")
print(f"{'':28} {'wall s':>8} {'cpu s':>8} {'wall / PyTorch':>15} {'cpu / PyTorch':>14}")
label = {"blas": "course, BLAS products", "loop": "course, loop matmul",
         "pytorch": "torch.nn.MultiheadAttention", "products": "  its products alone"}
for name in ("loop", "blas", "products", "pytorch"):
    wall, cpu = median[name]
    print(f"{label[name]:28} {wall:8.3f} {cpu:8.3f} {wall / median['pytorch'][0]:14.2f}x "
          f"{cpu / median['pytorch'][1]:13.2f}x")
EOF
