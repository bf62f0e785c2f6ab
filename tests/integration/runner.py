"""Runs unittest classes verbosely and ends with the line "N passed, N failed"."""

import sys
import unittest


def run(classes, verbosity=2):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in classes)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    if result.skipped:
        # A skipped test is a test that did not prove anything: count it as failed.
        failed += len(result.skipped)
    passed = result.testsRun - failed
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    return failed == 0
