#!/usr/bin/env bash
# tools/fuzz_flags.sh [--quick] [--bench] [--bad] [--seeds N] [--only PROGRAM] [BIN_DIR]
#
# Runs every chapter program (the chapters of chapters.toml, built in BIN_DIR, default build/bin) over
# a grid of flag values, to find the flag values that break the programs' contract (README.md, "Every
# chapter program accepts"). The chapters come from the manifest and the grid from each program's
# --help and fixtures, so a new chapter is covered without editing this script:
# every `--flag INT:in [low - high]` (except --seed) is tried
#   alone at low - 1, low, low + 1, 2 .. 9, 12, 16, its default, twice it, high / 100, high / 10,
#   high / 3, high / 2, high - 1, high and high + 1, with each on/off flag (e.g. --causal) off and on;
#   in pairs at low, low + 1, 3, the default, high / 2 and high;
#   all at low together and all at high together;
# and the small values again with seeds 0 .. N-1 (default 5). Then --load runs on each PyTorch fixture
# case of the chapter, chapters/NN_slug/fixtures/*/ (and those of the chapters its load_fixtures in
# chapters.toml names; fixtures/bad/*/ too with --bad): the case with its args.txt flags, with each
# on/off flag added, and with each int flag of --help set to low - 1, low, low + 1, 3, its default,
# high and high + 1 in turn.
#
# Every run must either
#   exit 0, print no FAILED self-check, no more nan/inf than the default run, nothing on stderr,
#   within SLOW seconds (default 10; set SLOW=...) and 1100 MiB; or
#   exit 2 with exactly one line on stderr containing "error:", within 2 s (refused before working).
# Each run that does not is printed with its command; at the end come the slowest runs and the
# largest memory and output. Exit code 1 if any run broke the contract.
#
# --quick: each flag alone only, one seed (a few minutes). --bench: also the benchmarks (bench_*:
# 150 s a run; bench_12_attention 300 s, since its default run with PyTorch takes about 3 minutes).
# The full grid takes about an hour on a busy 2-core machine, so it is not a ctest; rerun it after
# changing a program's flags.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
bench=0
seeds=5
bad=0
only=""
bin=$root/build/bin
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --bench) bench=1 ;;
    --seeds) seeds=$2; shift ;;
    --bad) bad=1 ;;
    --only) only=$2; shift ;;
    *) bin=$(cd "$1" && pwd) ;;  # absolute: the runs start in chapters/
  esac
  shift
done
slow=${SLOW:-10}
fixtures=$root/chapters
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
runs=0
broken=0
: >"$log/times"

# run PROGRAM ARGS...: one run, checked against the contract; appends "seconds KiB bytes command" to
# $log/times and prints the run if it broke the contract.
run() {
  local exe=$1
  shift
  local name limit=$slow
  name=$(basename "$exe")
  case $name in bench_12_attention) limit=300 ;; bench_*) limit=150 ;; esac
  runs=$((runs + 1))
  /usr/bin/time -o "$log/time" -f "%e %M" timeout $((limit + 10)) "$exe" "$@" >"$log/out" 2>"$log/err" </dev/null
  local code=$? seconds kib bytes lines problem=""
  read -r seconds kib < <(tail -1 "$log/time")
  bytes=$(wc -c <"$log/out")
  lines=$(wc -l <"$log/err")
  echo "$seconds $kib $bytes $name $*" >>"$log/times"
  case $code in
    0)
      if grep -q "FAILED" "$log/out"; then problem="a self-check FAILED: $(grep FAILED "$log/out" | head -1)"
      elif [ "$lines" -ne 0 ] || [ -s "$log/err" ]; then problem="exit 0 but stderr: $(head -c 200 "$log/err")"
      elif [ "$(nan_count "$log/out")" -gt "${baseline[$name]:-0}" ]; then problem="prints nan or inf"
      elif awk -v s="$seconds" -v l="$limit" 'BEGIN {exit !(s > l)}'; then problem="took $seconds s"
      elif [ "$kib" -gt $((1100 * 1024)) ] && [[ $name != bench_* ]]; then problem="held $((kib / 1024)) MiB"
      fi ;;
    2)
      if [ "$lines" -ne 1 ] || ! grep -q "error:" "$log/err"; then
        problem="exit 2 with $lines lines on stderr: $(head -c 300 "$log/err" | tr '\n' '|')"
      elif awk -v s="$seconds" 'BEGIN {exit !(s > 2)}'; then problem="refused only after $seconds s"
      fi ;;
    124) problem="timed out after $((limit + 10)) s" ;;
    *) problem="exit code $code: $(head -c 300 "$log/err" | tr '\n' '|')" ;;
  esac
  if [ -n "$problem" ]; then
    broken=$((broken + 1))
    echo "BROKEN  $name $*"
    echo "        $problem"
  fi
}

# The number of nan / inf printed as numbers in FILE (not words like "no NaN: OK").
nan_count() {
  grep -oiE '(^|[ ([,])-?(nan|inf)($|[] ,)])' "$1" | wc -l
}

# The int flags of a program's --help: "flag low high default needs_load" per line.
int_flags() {
  "$1" --help | sed -nE 's/^  (--[a-z0-9-]+) U?INT:in \[(-?[0-9]+) - ([0-9]+)\]=([0-9]+)(.*)$/\1 \2 \3 \4 \5/p' |
    awk '$1 != "--seed" {print $1, $2, $3, $4, ($0 ~ /Needs: --load/) ? 1 : 0}'
}

# The on/off flags of a program's --help (no value), apart from --help and --no-color.
bool_flags() {
  "$1" --help | awk '$1 ~ /^--[a-z0-9-]+$/ && $1 != "--no-color" && $2 !~ /^(INT|UINT|DIR|TEXT)/ && \
    /^  --[a-z0-9-]+   / {print $1}'
}

# Values to try for a flag in [low, high] with a default.
values() {
  local low=$1 high=$2 def=$3
  {
    echo $((low - 1)) "$low" $((low + 1)) 2 3 4 5 6 7 8 9 12 16 "$def" $((def * 2)) $((high / 100)) \
      $((high / 10)) $((high / 3)) $((high / 2)) $((high - 1)) "$high" $((high + 1))
  } | tr ' ' '\n' | awk -v h="$high" '$1 >= -1 && $1 <= h + 1' | sort -n -u
}

# The case folders chapter NN's program reads with --load, relative to chapters/: every
# chapters/NN_slug/fixtures/*/ of its own and of the chapters its load_fixtures in chapters.toml
# names; their bad/ cases too with --bad.
fixture_cases() {
  local c dir d
  for c in "$1" $(/usr/bin/python3 "$root/tools/chapters.py" field "$1" load_fixtures); do
    dir=${chapter_of[$c]}/fixtures
    for d in "$dir"/*/; do
      [ -d "$d" ] && [ "$d" != "$dir/bad/" ] && echo "$d"
    done
    if [ "$bad" -eq 1 ]; then
      for d in "$dir"/bad/*/; do [ -d "$d" ] && echo "$d"; done
    fi
  done
}

# Values to try for a flag in [low, high] with a default, on a loaded case.
load_values() {
  local low=$1 high=$2 def=$3
  printf '%s\n' $((low - 1)) "$low" $((low + 1)) 3 "$def" "$high" $((high + 1)) |
    awk -v h="$high" '$1 >= -1 && $1 <= h + 1' | sort -n -u
}

# The words of a case's args.txt (in $case_args) with FLAG set to VALUE, replaced where args.txt has
# it, else added: in $set_args.
set_flag() {
  local flag=$1 value=$2 i=0
  set_args=()
  while [ $i -lt ${#case_args[@]} ]; do
    if [ "${case_args[$i]}" = "$flag" ]; then
      i=$((i + 2))
    else
      set_args+=("${case_args[$i]}")
      i=$((i + 1))
    fi
  done
  set_args+=("$flag" "$value")
}

# Runs on the PyTorch fixture cases of chapter NN's program (fixture_cases): each case with the flags
# its args.txt holds (the flags PyTorch's side was made with), then with each int flag of --help (but
# --seed) set to each of load_values, and with each on/off flag added.
load_cases() {
  local exe=$1 d f flag low high def v b
  local -a all_flags
  mapfile -t all_flags < <(int_flags "$exe")
  while read -r d; do
    case_args=()
    [ -f "$d/args.txt" ] && read -r -a case_args <"$d/args.txt"
    run "$exe" --load "$d" "${case_args[@]}"
    for b in "${bools[@]}"; do
      [[ " ${case_args[*]} " == *" $b "* ]] || run "$exe" --load "$d" "${case_args[@]}" "$b"
    done
    for f in "${all_flags[@]}"; do
      read -r flag low high def _ <<<"$f"
      for v in $(load_values "$low" "$high" "$def"); do
        set_flag "$flag" "$v"
        run "$exe" --load "$d" "${set_args[@]}"
      done
    done
  done < <(fixture_cases "$2")
}

cd "$fixtures" || exit 2  # the --load cases name fixture directories relative to it
declare -A baseline chapter_of
mapfile -t chapters < <(/usr/bin/python3 "$root/tools/chapters.py" names) || exit 2
[ ${#chapters[@]} -gt 0 ] || exit 2
programs=()
for c in "${chapters[@]}"; do
  chapter_of[${c%%_*}]=$c
  programs+=("$bin/ch$c")
done
for exe in "${programs[@]}" "$bin"/bench_*; do
  name=$(basename "$exe")
  [ -n "$only" ] && [[ $name != $only* ]] && continue
  [[ $name == bench_* ]] && [ "$bench" -eq 0 ] && continue
  if [ ! -x "$exe" ]; then
    [[ $name == ch* ]] && echo "note: $exe is not built"
    continue
  fi
  "$exe" >"$log/default" 2>/dev/null </dev/null
  baseline[$name]=$(nan_count "$log/default")
  mapfile -t flags < <(int_flags "$exe" | awk '$5 == 0')
  mapfile -t bools < <(bool_flags "$exe")
  [ ${#flags[@]} -gt 0 ] || [ ${#bools[@]} -gt 0 ] || echo "note: $name has no size flags in its --help"
  before=$runs
  loaded=""
  # 1. each flag alone, with each on/off flag off and on; the small values with several seeds
  for f in "${flags[@]}"; do
    read -r flag low high def _ <<<"$f"
    for v in $(values "$low" "$high" "$def"); do
      if [[ $name == bench_* ]] && [ "$v" -gt 64 ] && [ "$v" -lt "$high" ]; then continue; fi
      run "$exe" "$flag" "$v"
      [ "$quick" -eq 1 ] && continue
      for b in "${bools[@]}"; do run "$exe" "$flag" "$v" "$b"; done
      if [ "$v" -ge "$low" ] && { [ "$v" -le 16 ] || [ "$v" -eq "$def" ]; } && [[ $name != bench_* ]]; then
        for ((s = 0; s < seeds; s++)); do run "$exe" "$flag" "$v" --seed $s; done
      fi
    done
  done
  if [ "$quick" -eq 0 ]; then
    # 2. pairs of flags
    for ((i = 0; i < ${#flags[@]}; i++)); do
      for ((j = i + 1; j < ${#flags[@]}; j++)); do
        read -r f1 l1 h1 d1 _ <<<"${flags[$i]}"
        read -r f2 l2 h2 d2 _ <<<"${flags[$j]}"
        for v1 in "$l1" $((l1 + 1)) 3 "$d1" $((h1 / 2)) "$h1"; do
          for v2 in "$l2" $((l2 + 1)) 3 "$d2" $((h2 / 2)) "$h2"; do
            [ "$v1" -le "$h1" ] && [ "$v2" -le "$h2" ] || continue
            run "$exe" "$f1" "$v1" "$f2" "$v2"
          done
        done
      done
    done
    # 3. all at low, all at high
    if [ ${#flags[@]} -gt 1 ]; then
      lows=() highs=()
      for f in "${flags[@]}"; do
        read -r flag low high _ _ <<<"$f"
        lows+=("$flag" "$low")
        highs+=("$flag" "$high")
      done
      run "$exe" "${lows[@]}"
      run "$exe" "${highs[@]}"
      for b in "${bools[@]}"; do run "$exe" "${lows[@]}" "$b"; run "$exe" "${highs[@]}" "$b"; done
    fi
    # 4. flags that need --load
    loaded=$runs
    [[ $name == ch* ]] && load_cases "$exe" "${name:2:2}"
    loaded=$((runs - loaded))
  fi
  echo "$name: $((runs - before)) runs${loaded:+ ($loaded with --load)}"
done

echo
echo "slowest runs (seconds, KiB, stdout bytes, command):"
sort -rn "$log/times" | head -12 | sed 's/^/  /'
echo "most memory:"
sort -k2,2 -rn "$log/times" | head -5 | sed 's/^/  /'
echo "most output:"
sort -k3,3 -rn "$log/times" | head -5 | sed 's/^/  /'
echo
echo "$runs runs, $broken broke the contract"
[ "$broken" -eq 0 ]
