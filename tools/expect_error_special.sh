#!/usr/bin/env bash
# expect_error_special.sh KIND FILE CASE_DIR PROGRAM ARGS...
# What git cannot hold (or should not hold twice), made at test time: copies CASE_DIR into a temporary
# directory TMP, puts KIND in place of TMP/FILE, and runs tools/expect_error.sh PROGRAM ARGS... (one
# line on stderr with "error:", exit code 2, within 30 s). An argument @DIR@ in ARGS stands for TMP
# (e.g. --data @DIR@/tang300); without one, the program gets --load TMP first. KIND is one of
#   directory   a directory named FILE          fifo   a FIFO (named pipe): opening it would block
#   devzero     a symlink to /dev/zero (endless) loop   a symlink to itself (ELOOP)
#   dangling    a symlink to nothing            absent FILE removed (e.g. one key of a layer)
#   copy:NAME   a copy of CASE_DIR's NAME       size:N a file of N bytes of zeros (sparse: truncate -s N)
set -u
kind=$1 file=$2 case_dir=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$case_dir"/. "$tmp"/
rm -f "$tmp/$file"
case "$kind" in
  directory) mkdir "$tmp/$file" ;;
  fifo) mkfifo "$tmp/$file" ;;
  devzero) ln -s /dev/zero "$tmp/$file" ;;
  loop) ln -s "$tmp/$file" "$tmp/$file" ;;
  dangling) ln -s "$tmp/no_such_file" "$tmp/$file" ;;
  absent) ;;
  copy:*) cp "$case_dir/${kind#copy:}" "$tmp/$file" ;;
  size:*) truncate -s "${kind#size:}" "$tmp/$file" ;;
  *) echo "unknown KIND $kind" >&2; exit 1 ;;
esac
program=$1
shift
args=()
given_dir=no
for a in "$@"; do
  case "$a" in
    *@DIR@*) args+=("${a//@DIR@/$tmp}"); given_dir=yes ;;
    *) args+=("$a") ;;
  esac
done
[ "$given_dir" = yes ] || args=(--load "$tmp" "${args[@]}")
bash "$(dirname "$0")/expect_error.sh" "$program" "${args[@]}"
