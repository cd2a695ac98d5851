#!/usr/bin/env bash
# bad_data.sh KIND PROGRAM: a copy of Debian's dataset-fashion-mnist files in a temporary directory with
# one file spoiled, then tools/expect_error.sh PROGRAM --data TMP (one line with "error:", exit code 2).
# KIND is one of
#   truncated           train-labels-idx1-ubyte.gz cut in half (gzread stops early)
#   wrong_magic         train-labels-idx1-ubyte.gz with the images' magic number 2051
#   counts_differ       the test labels (10,000) in place of the training labels (60,000)
#   label_out_of_range  the first training label made 10
set -eu
kind=$1 program=$2
src=/usr/share/datasets/fashion-mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src"/*-ubyte.gz "$tmp"/
labels=$tmp/train-labels-idx1-ubyte.gz
case "$kind" in
  truncated) truncate -s $(($(stat -c %s "$labels") / 2)) "$labels" ;;
  wrong_magic) zcat "$src/train-labels-idx1-ubyte.gz" | { printf '\000\000\010\003'; tail -c +5; } | gzip >"$labels" ;;
  counts_differ) cp "$src/t10k-labels-idx1-ubyte.gz" "$labels" ;;
  label_out_of_range)
    zcat "$src/train-labels-idx1-ubyte.gz" | { head -c 8; printf '\012'; tail -c +2; } | gzip >"$labels" ;;
  *) echo "unknown KIND $kind" >&2; exit 1 ;;
esac
bash "$(dirname "$0")/../../tools/expect_error.sh" "$program" --data "$tmp"
