#!/usr/bin/env bash
# Installs dependencies, builds the debug preset and runs every test through
# CTest: unit tests (GoogleTest, one CTest test per case), the layering check
# and the integration suites (pytest, one CTest test per file, run as root).
# Prints a last line "N passed, N failed, N skipped" counting individual
# GoogleTest and pytest cases, and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/install-deps.sh || exit 1
  # CI runs as root: a test that would skip for lack of root must fail there.
  export BERTH_TEST_ROOT="${BERTH_TEST_ROOT:-1}"
else
  echo "test.sh: not root: integration tests will skip" >&2
fi

bash scripts/build.sh debug || { echo "0 passed, 1 failed"; exit 1; }

build=build/debug
rm -rf "$build/junit" "$build/ctest-junit.xml"
ctest --test-dir "$build" --output-on-failure --timeout 900 \
  --output-junit "$PWD/$build/ctest-junit.xml"
status=$?

# Per-case totals: GoogleTest cases and the layering check are CTest tests
# of their own; each integration CTest test is a pytest file whose cases are
# counted from its JUnit report.
/usr/bin/python3 - "$build" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
build = sys.argv[1]
passed = failed = skipped = 0
pytest_failed_files = []
root = ET.parse(f"{build}/ctest-junit.xml").getroot()
for tc in root.iter("testcase"):
    if tc.get("name", "").startswith(("integration.", "e2e.", "tools.test_")):
        # A pytest file that failed before writing its report (collection
        # error, timeout) still counts as one failure.
        st = tc.get("status", "")
        if tc.find("failure") is not None or st == "fail":
            pytest_failed_files.append(tc.get("name"))
        continue
    st = tc.get("status", "")
    if tc.find("failure") is not None or st == "fail":
        failed += 1
    elif tc.find("skipped") is not None or st in ("notrun", "disabled"):
        skipped += 1
    else:
        passed += 1
junit_files = glob.glob(f"{build}/junit/*.xml")
for path in junit_files:
    for suite in ET.parse(path).getroot().iter("testsuite"):
        t = int(suite.get("tests", 0)); f = int(suite.get("failures", 0))
        e = int(suite.get("errors", 0)); s = int(suite.get("skipped", 0))
        passed += t - f - e - s; failed += f + e; skipped += s
if pytest_failed_files and failed == 0:
    # ctest saw a failing pytest file whose report shows no failed case.
    failed = len(pytest_failed_files)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
