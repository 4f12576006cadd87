#!/usr/bin/env python3
"""Checks a grade report from one of tools/test_grader's scenarios, and its other formats.

    python3 tests/grader/check_report.py SCENARIO BUILD_GRADE_DIR

SCENARIO is what was graded: stubs, solutions, crash, hang, compile_error, exit, missing (the last
five plant a fault in chapter 01 next to 90_control, a copy of chapter 01 with its solution).
Every scenario also checks that report.json validates against docs/grade-report.schema.json, that
report.xml parses as JUnit, and the TAP, Autolab and Markdown views. Prints each problem; exits 1 if any.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import validate_schema  # noqa: E402

SEQUENTIAL = {"test_sequential_no_overlap", "test_sequential_input_order", "test_sequential_stops_at_failure"}
CALL_FETCH_BLOCKING = {"test_get_body", "test_404_is_a_response", "test_refused", "test_bad_urls", "test_whole_body"}

problems = []


def expect(condition, what):
    if not condition:
        problems.append(what)


def chapter(report, name):
    found = [c for c in report["chapters"] if c["chapter"] == name]
    expect(len(found) == 1, "chapter %s should be in the report once" % name)
    return found[0] if found else {"tests": [], "points": None, "max_points": None, "status": None}


def expect_points(ch, points, max_points, status):
    expect((ch["points"], ch["max_points"], ch["status"]) == (points, max_points, status),
           "%s: expected %s/%s points, status %s; got %s/%s, %s" % (ch.get("chapter"), points, max_points, status,
                                                                     ch["points"], ch["max_points"], ch["status"]))
    expect(sum(t["points"] for t in ch["tests"]) == ch["points"],
           "%s: the tests' points do not add up to the chapter's" % ch.get("chapter"))


def expect_tests(ch, rule):
    """rule(test) returns None when the test is as expected, else what is wrong."""
    for t in ch["tests"]:
        wrong = rule(t)
        if wrong:
            expect(False, "%s/%s: %s (status %s, message %r)" % (ch["chapter"], t["name"], wrong, t["status"],
                                                                  t.get("message")))


def passed_unless(names, status, signal=None, message=None):
    def rule(t):
        if t["name"] not in names:
            return None if t["status"] == "passed" and t["points"] == t["max_points"] else "should pass"
        if t["status"] != status or t["points"] != 0:
            return "should be %s with 0 points" % status
        if signal is not None and (t["signal"], t["signal_name"]) != (signal, "SIGSEGV"):
            return "should name signal %d (SIGSEGV)" % signal
        if message is not None and message not in (t.get("message") or ""):
            return "the message should say %r" % message
        return None
    return rule


def check_scenario(name, report):
    if name == "stubs":
        expect(report["points"] == 0 and report["max_points"] > 0, "the stubs should score 0 of some points")
        for ch in report["chapters"]:
            expect_points(ch, 0, ch["max_points"], "graded")
            expect(len(ch["tests"]) > 0, "%s has no tests" % ch["chapter"])
            expect_tests(ch, lambda t: None if t["status"] == "failed" and len(t.get("message") or "") > 20
                         and "Early exit" not in t["message"]
                         else "should fail with a readable message, not crash, hang or exit")
    elif name == "solutions":
        expect(report["points"] == report["max_points"] > 0, "the solutions should have full marks")
        for ch in report["chapters"]:
            expect_points(ch, ch["max_points"], ch["max_points"], "graded")
            expect_tests(ch, lambda t: None if t["status"] == "passed" and t["message"] is None else "should pass")
    elif name in ("crash", "hang", "compile_error", "exit", "missing"):
        control = chapter(report, "90_control")
        expect_points(control, 15, 15, "graded")
        ch = chapter(report, "01_blocking_fetch")
        if name == "crash":
            expect_points(ch, 9, 15, "graded")
            expect_tests(ch, passed_unless(SEQUENTIAL, "crashed", signal=11, message="SIGSEGV"))
            expect_tests(ch, lambda t: None if t["status"] != "crashed" or "valgrind" in (t["rerun"] or "")
                         else "a crash should come with a valgrind command")
        elif name == "hang":
            expect_points(ch, 13, 15, "graded")
            expect_tests(ch, passed_unless({"test_timeout"}, "timed_out", message="did not finish within"))
        elif name == "compile_error":
            expect_points(ch, 0, 15, "build_failed")
            error = ch["compile_error"] or ""
            expect("exercise.c" in error and "error" in error,
                   "the compile error should be the compiler's first error in exercise.c, got %r" % error)
            expect(len(ch["tests"]) == 9, "all 9 tests should be listed as build_failed")
            expect_tests(ch, lambda t: None if t["status"] == "build_failed" and t["message"] == error
                         else "should be build_failed with the compiler's error")
        elif name == "exit":
            expect_points(ch, 8, 15, "graded")
            expect_tests(ch, passed_unless(CALL_FETCH_BLOCKING, "failed", message="exited with status 0"))
        elif name == "missing":
            expect_points(ch, 14, 14, "incomplete")
            expect(ch["tests_expected"] == 9 and ch["tests_run"] == 8,
                   "the count guard should expect 9 tests and see 8 run, got %s and %s"
                   % (ch["tests_expected"], ch["tests_run"]))
            expect("test_sequential_stops_at_failure" in (ch["error"] or ""), "the error should name the missing test")
            expect_tests(ch, passed_unless({"test_sequential_stops_at_failure"}, "not_run", message="never ran"))
    else:
        expect(False, "unknown scenario " + name)


def check_formats(grade_dir, report):
    tests = [t for ch in report["chapters"] for t in ch["tests"]]
    try:
        root = ET.parse(os.path.join(grade_dir, "report.xml")).getroot()
        cases = root.findall("./testsuite/testcase")
        expect(root.tag == "testsuites" and len(cases) == len(tests),
               "JUnit: expected %d testcases in <testsuites>, got %d" % (len(tests), len(cases)))
        bad = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
        expect(len(bad) == sum(t["status"] != "passed" for t in tests), "JUnit: failures and errors do not match")
        expect(int(root.get("tests")) == len(tests), "JUnit: the tests attribute is wrong")
    except (ET.ParseError, OSError) as e:
        expect(False, "JUnit: report.xml does not parse: %s" % e)
    with open(os.path.join(grade_dir, "report.tap"), encoding="utf-8") as f:
        tap = f.read().splitlines()
    expect(tap[:2] == ["TAP version 13", "1..%d" % len(tests)], "TAP: wrong header %r" % tap[:2])
    oks = [line for line in tap if line.startswith(("ok ", "not ok "))]
    expect(len(oks) == len(tests) and sum(line.startswith("ok ") for line in oks) ==
           sum(t["status"] == "passed" for t in tests), "TAP: the ok lines do not match the report")
    tool = os.path.join(HERE, "..", "..", "tools", "grade_report")
    path = os.path.join(grade_dir, "report.json")
    last = subprocess.run([tool, "autolab", path], capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    scores = json.loads(last)["scores"]
    expect(scores == {ch["chapter"]: ch["points"] for ch in report["chapters"]}, "Autolab: wrong scores %r" % scores)
    markdown = subprocess.run([tool, "markdown", path], capture_output=True, text=True, check=True).stdout
    expect(markdown.startswith("## Grade: %d/%d points" % (report["points"], report["max_points"])),
           "Markdown: wrong title")


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    scenario, grade_dir = argv[1], argv[2]
    with open(os.path.join(grade_dir, "report.json"), encoding="utf-8") as f:
        report = json.load(f)
    schema_path = os.path.join(HERE, "..", "..", "docs", "grade-report.schema.json")
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    schema_problems = []
    validate_schema.validate(schema, schema, report, "$", schema_problems)
    problems.extend("schema: " + p for p in schema_problems)
    check_scenario(scenario, report)
    check_formats(grade_dir, report)
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
