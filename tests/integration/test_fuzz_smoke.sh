#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The libFuzzer harnesses of tests/fuzz, briefly: every committed seed
# (crash reproducers included) is replayed, then each harness mutates for
# FUZZ_SMOKE_SECONDS (default 10). A regression in a parser shows here in CI;
# `make fuzz` is the long run, with a fresh random seed each time; this one
# uses a fixed seed so that CI's verdict does not depend on the draw.
set -u
cd "$(dirname "$0")/../.." || exit 1
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
# Built here rather than by `make tests`: the harnesses are clang-only and
# independent of SAN (they always carry ASan+UBSan), so `make test SAN=1`
# would only repeat the run of `make test`.
[ "${SAN:-}" = 1 ] && { echo "SKIP: the fuzz harnesses carry ASan+UBSan whatever SAN says; make test runs them"; exit 77; }
make --no-print-directory -s fuzz-build >/dev/null || { echo "FAIL: make fuzz-build"; exit 1; }
FUZZ_SEED=${FUZZ_SEED:-1} exec tests/fuzz/run.sh "${FUZZ_SMOKE_SECONDS:-10}"
