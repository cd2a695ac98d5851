#!/usr/bin/env bash
# update_stub_hashes.sh — record the untouched exercise stubs in exercises/STUBS.sha256.
# Run it after changing a stub on purpose. The course runner uses the file to tell "not started"
# from "in progress", `course reset` to find the stub in git history, and CI to check stubs fail.
set -eu
cd "$(dirname "$0")/.."
find exercises -mindepth 2 -type f ! -name HINTS.md | LC_ALL=C sort | xargs sha256sum >exercises/STUBS.sha256
echo "wrote exercises/STUBS.sha256 ($(wc -l <exercises/STUBS.sha256) files)"
