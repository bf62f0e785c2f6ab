#!/usr/bin/env python3
"""`hello --help` names exactly the environment variables of README.md's configuration table.

The table is the rows of the form "| `NAME` | default | meaning |" under the "### Configuration"
heading; the help text's list is the indented lines after the one ending "environment variables:".
A variable documented in one place and not the other fails, named, in either direction.
"""

import argparse
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
import runner  # noqa: E402  (the shared "N passed, N failed" runner)

NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")
ARGS = None


def readme_variables(text):
    """Variable names in the first column of the table under '### Configuration'."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("### Configuration")), None)
    if start is None:
        raise AssertionError("README.md has no '### Configuration' heading")
    names = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        match = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if match:
            names.append(match.group(1))
    return names


def help_variables(text):
    """Names in the indented lines that follow the line ending in 'environment variables:'."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.rstrip().endswith("environment variables:")), None)
    if start is None:
        raise AssertionError("--help has no line ending in 'environment variables:'")
    names = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        names.extend(line.split())
    return names


class UsageMatchesReadme(unittest.TestCase):
    def setUp(self):
        with open(ARGS.readme, encoding="utf-8") as f:
            self.readme = readme_variables(f.read())
        out = subprocess.run([ARGS.binary, "--help"], capture_output=True, text=True, timeout=10, check=True)
        self.help = help_variables(out.stdout)

    def test_both_lists_are_variable_names(self):
        self.assertGreaterEqual(len(self.readme), 10, "the README table was not found whole: %r" % self.readme)
        self.assertGreaterEqual(len(self.help), 10, "the --help list was not found whole: %r" % self.help)
        for name in self.readme + self.help:
            self.assertRegex(name, NAME)
        self.assertEqual(len(self.help), len(set(self.help)), "--help names a variable twice")

    def test_help_names_every_readme_variable(self):
        missing = [n for n in self.readme if n not in self.help]
        self.assertEqual(missing, [], "in README.md's configuration table but not in `hello --help`")

    def test_readme_documents_every_help_variable(self):
        missing = [n for n in self.help if n not in self.readme]
        self.assertEqual(missing, [], "in `hello --help` but not in README.md's configuration table")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the hello binary to ask for --help")
    parser.add_argument("--readme", required=True, help="README.md with the configuration table")
    ARGS = parser.parse_args()
    return 0 if runner.run([UsageMatchesReadme]) else 1


if __name__ == "__main__":
    sys.exit(main())
