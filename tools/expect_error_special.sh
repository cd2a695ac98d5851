#!/usr/bin/env bash
# expect_error_special.sh KIND FILE CASE_DIR PROGRAM ARGS...
# What git cannot hold, made at test time: copies CASE_DIR into a temporary directory, puts KIND in
# place of FILE there, and runs tools/expect_error.sh PROGRAM --load TMP ARGS... (one line on stderr
# with "error:", exit code 2, within 30 s). KIND is one of
#   directory   a directory named FILE          fifo   a FIFO (named pipe): opening it would block
#   devzero     a symlink to /dev/zero (endless) loop   a symlink to itself (ELOOP)
#   dangling    a symlink to nothing
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
  *) echo "unknown KIND $kind" >&2; exit 1 ;;
esac
program=$1
shift
bash "$(dirname "$0")/expect_error.sh" "$program" --load "$tmp" "$@"
