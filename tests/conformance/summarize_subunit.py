"""Read a subunit v2 stream on stdin; print a JSON list of [test id, status, reason].

Runs inside Tempest's own venv (it has python-subunit and testtools).
"""

import json
import re
import sys

import subunit
import testtools


def main() -> None:
    tests = []
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
    result = testtools.StreamToDict(tests.append)
    result.startTestRun()
    stream.run(result)
    result.stopTestRun()
    rows = []
    for test in tests:
        status = test["status"]
        if status in ("exists", None):
            continue
        test_id = re.sub(r"\[.*\]$", "", test["id"])
        reason = ""
        for key in ("reason", "traceback"):
            if key in test["details"]:
                text = test["details"][key].as_text().strip()
                lines = [line for line in text.splitlines() if line.strip()]
                reason = " | ".join(lines[-3:]) if key == "traceback" else text
                break
        if status == "xfail":
            status = "success"
        rows.append([test_id, status, reason])
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
