#!/usr/bin/env bash
# expect_error.sh PROGRAM ARGS...
# The error contract (CONTRIBUTING.md): given bad input, PROGRAM prints exactly one line containing
# "error:" on stderr and exits with code 2, within 30 s. A crash, a sanitizer report, a hang, a
# multi-line message or a line over 250 bytes (a long bad value echoed whole) fails the test.
set -u
program=$1
shift
err=$(mktemp)
trap 'rm -f "$err"' EXIT
timeout 30 "$program" "$@" >/dev/null 2>"$err" </dev/null
code=$?
lines=$(wc -l <"$err")
echo "\$ $(basename "$program") $*"
echo "exit code: $code"
echo "stderr:"
cat "$err"
if [ "$code" -ne 2 ]; then
  echo "FAIL: expected exit code 2 for bad input"
  exit 1
fi
if [ "$lines" -ne 1 ]; then
  echo "FAIL: expected exactly one line on stderr, got $lines"
  exit 1
fi
if ! grep -q "error:" "$err"; then
  echo "FAIL: the line should say 'error:'"
  exit 1
fi
bytes=$(wc -c <"$err")
if [ "$bytes" -gt 251 ]; then
  echo "FAIL: the line has $bytes bytes; echo at most ~80 characters of a bad value (shorten() in tensor.hpp)"
  exit 1
fi
echo "OK"
