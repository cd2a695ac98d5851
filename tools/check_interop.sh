#!/usr/bin/env bash
# check_interop.sh PROGRAM NPY_ALLCLOSE CASE_DIR [--no-load] [--tolerance T] OUTPUT...
# PyTorch interop (CONTRIBUTING.md): runs PROGRAM --load CASE_DIR --save TMP plus the flags in
# CASE_DIR/args.txt (if any), then checks that every OUTPUT (e.g. output.npy) it wrote into TMP agrees
# with PyTorch's file of the same name in CASE_DIR to 1e-9 (or T). With --no-load the program reads
# no input (e.g. chapter 07 writes pe.npy from its flags alone).
set -u
program=$1
compare=$2
case_dir=$3
shift 3
load=(--load "$case_dir")
tolerance=1e-9
while [ $# -gt 0 ]; do
  case $1 in
    --no-load) load=(); shift ;;
    --tolerance) tolerance=$2; shift 2 ;;
    *) break ;;
  esac
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
args=()
[ -f "$case_dir/args.txt" ] && read -r -a args <"$case_dir/args.txt"
echo "\$ $(basename "$program") ${load[*]} --save TMP ${args[*]}"
if ! "$program" --no-color "${load[@]}" --save "$out" "${args[@]}" >/dev/null; then
  echo "FAIL: the program did not finish"
  exit 1
fi
status=0
for name in "$@"; do
  if [ ! -f "$out/$name" ]; then
    echo "FAIL: the program wrote no $name"
    status=1
  elif ! "$compare" "$out/$name" "$case_dir/$name" "$tolerance"; then
    status=1
  fi
done
exit $status
