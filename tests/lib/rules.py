"""One runner for the rule-based checkers (tests/deploy/validate_task_definition.py,
tests/k8s/check_policy.py).

A rule is a function that raises (usually with `assert ... , "why"`) when the document breaks
it. run_rules prints `ok - NAME` or `not ok - NAME: Error: why` for each, the lines
tests/lib/checks.sh counts. self_test breaks a valid document one way at a time and requires
the rule meant to catch that break to fail, so a rule that can never fail is caught.
"""
import copy

# What a rule may raise on a document it does not accept: an assertion, or the document
# lacking what the rule reads.
RULE_FAILURES = (AssertionError, KeyError, TypeError, ValueError, IndexError)


def run_rules(rules, apply, quiet=False):
    """Runs apply(rule) for each (name, rule) of rules; returns the names of the failed ones."""
    failed = []
    for name, rule in rules:
        try:
            apply(rule)
        except RULE_FAILURES as err:
            failed.append(name)
            if not quiet:
                print(f"not ok - {name}: {type(err).__name__}: {err}")
            continue
        if not quiet:
            print(f"ok - {name}")
    return failed


def self_test(document, validate, mutations, noun):
    """validate(document, quiet=True) returns the failed rule names. Each mutation is
    (description, mutate, expected): mutate(copy) breaks a copy in place, and some failed
    rule's name must contain expected. Returns the number of breaks that passed."""
    baseline = validate(document, quiet=True)
    if baseline:
        print(f"not ok - the self-test needs a valid {noun}; failing: {baseline}")
        return 1
    failures = 0
    for description, mutate, expected in mutations:
        broken = copy.deepcopy(document)
        mutate(broken)
        failed = validate(broken, quiet=True)
        if any(expected in name for name in failed):
            print(f"ok - a {noun} with {description} is rejected")
        else:
            failures += 1
            print(f"not ok - a {noun} with {description} passed (failed checks: {failed})")
    return failures
