#!/usr/bin/env bash
# check_interop.sh PROGRAM NPY_ALLCLOSE CASE_DIR OUTPUT...
# PyTorch interop (DESIGN.md): runs PROGRAM --load CASE_DIR --save TMP plus the flags in
# CASE_DIR/args.txt (if any), then checks that every OUTPUT (e.g. output.npy) it wrote into TMP agrees
# with PyTorch's file of the same name in CASE_DIR to 1e-9.
set -u
program=$1
compare=$2
case_dir=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
args=()
[ -f "$case_dir/args.txt" ] && read -r -a args <"$case_dir/args.txt"
echo "\$ $(basename "$program") --load $case_dir --save TMP ${args[*]}"
if ! "$program" --no-color --load "$case_dir" --save "$out" "${args[@]}" >/dev/null; then
  echo "FAIL: the program did not finish"
  exit 1
fi
status=0
for name in "$@"; do
  if [ ! -f "$out/$name" ]; then
    echo "FAIL: the program wrote no $name"
    status=1
  elif ! "$compare" "$out/$name" "$case_dir/$name"; then
    status=1
  fi
done
exit $status
