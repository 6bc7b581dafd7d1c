"""Proof for a likely cause: the same mistake, seen again on further cases of other sizes.

A rule in ``causes.py`` that matches the failing case is only a candidate: at one small case two
mistakes can give the same numbers (with n_x = 1, forgetting 1/m and dividing by n_x agree; with
n_h = n_y, db1 summed from dZ2 has the shape of a swap). A candidate becomes the cause a student
reads only when the student's function, called again through the same ``Student`` the check
uses (the very function the check grades, never another), gives what that mistake computes on
``FURTHER`` cases: at least two, each differing from the failing case in every size (n_x, n_h, n_y,
m), with the sizes the cause talks about (n_y = 1 with n_h >= 2 for "right with one output").

The further cases come from a fixed pool, so a grade meets at most ``len(POOL)`` of them per
function (the Student memoises identical requests): proof costs a few calls, not one per step of
hypothesis' shrinking. In each case of the pool the four sizes differ from each other (n_x, n_h,
n_y and m pairwise distinct), so factor causes (1/m, 1/n_x, 1/n_h, 1/n_y) cannot coincide there.
A call that fails in any way (a raise, a wrong type) is simply no evidence.
"""

from . import causes, reference
from .feedback import as_numbers
from ..verdicts import Failed

# Each size takes a different value in every case of the pool, so a failing case shares a size with at
# most four of them and at least two remain; within a case no two sizes are equal.
POOL = ({"n_x": 3, "n_h": 4, "n_y": 2, "m": 5}, {"n_x": 5, "n_h": 2, "n_y": 3, "m": 7},
        {"n_x": 2, "n_h": 6, "n_y": 5, "m": 3}, {"n_x": 6, "n_h": 3, "n_y": 4, "m": 2},
        {"n_x": 4, "n_h": 7, "n_y": 6, "m": 9}, {"n_x": 7, "n_h": 5, "n_y": 8, "m": 4})
POOL_SEED = 101                    # any fixed seed: the further cases are the same on every run
FURTHER = 2                        # further cases that must show the same mistake
ONE_OUTPUT = {"n_y": 1}            # "right with one output": n_y = 1, and every n_h in the pool is >= 2


def further_cases(failing, fixed=None):
    """The first FURTHER cases of the pool that differ from ``failing`` in every size, with ``fixed`` sizes."""
    chosen = []
    for k, sizes in enumerate(POOL):
        sizes = dict(sizes, **(fixed or {}))
        if all(sizes[d] != failing[d] for d in sizes if d in failing):
            chosen.append((sizes, POOL_SEED + k))
        if len(chosen) == FURTHER:
            break
    return chosen


def _case(sizes, seed):
    """The case dict of a further call (verdicts.case_text words it, should the call fail)."""
    return dict(sizes, problem_seed=seed)


def _forward_cache(student, sizes, seed):
    p, X, _, true = reference.solved(seed, sizes["n_x"], sizes["n_h"], sizes["n_y"], sizes["m"])
    try:
        value = student.call("forward", (X, p), _case(sizes, seed)).value
    except Failed:
        return None
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[1], dict)):
        return None
    return value[1], X, p, true


def forward_cause(student, key, got, X, p, true, failing):
    """The first forward candidate for cache[key] that the further cases confirm, or None."""
    for hint in causes.forward_candidates(key, got, X, p, true):
        if all(_forward_confirms(student, hint, key, sizes, seed) for sizes, seed in further_cases(failing)):
            return hint
    return None


def _forward_confirms(student, hint, key, sizes, seed):
    found = _forward_cache(student, sizes, seed)
    if found is None:
        return False
    cache, X, p, true = found
    return causes.forward_matches(hint, as_numbers(cache.get(key)), X, p, true)


def backward_evidence(student, sizes, seed):
    """causes.Evidence for the student's backward at a further case, or None when the call gives no dict."""
    n_x, n_h, n_y, m = sizes["n_x"], sizes["n_h"], sizes["n_y"], sizes["m"]
    p, X, Y, cache = reference.solved(seed, n_x, n_h, n_y, m)
    try:
        grads = student.call("backward", (p, cache, X, Y), _case(sizes, seed)).value
    except Failed:
        return None
    if not isinstance(grads, dict):
        return None
    return causes.Evidence(p, X, Y, cache, reference.solved_gradients(seed, n_x, n_h, n_y, m), grads)


def backward_cause(student, name, e, failing):
    """The first backward candidate for gradient ``name`` that the further cases confirm, or None."""
    for hint in causes.backward_candidates(name, e):
        rule = causes.BACKWARD_RULE[hint]
        if all(_confirms(student, sizes, seed, lambda f: rule(name, f)) for sizes, seed in further_cases(failing)):
            return hint
    return None


def one_output(student, failing, e=None):
    """'backward_one_output' when the failing case has n_y >= 2 and backward is right at n_y = 1, n_h >= 2.

    Right means all four gradients equal the true ones, on FURTHER cases that differ from the
    failing one in every size; a backward that raises there, or is wrong there, gets no such claim.
    The hint blames the error sent back to the hidden layer, so when the failing case's gradients
    ``e`` are known, the output layer's (dW2, db2) must be right there.
    """
    if failing["n_y"] < 2:
        return None
    if e is not None and not all(causes._close(e.got(name), e.true[name]) for name in ("dW2", "db2")):
        return None
    cases = further_cases(failing, ONE_OUTPUT)
    ok = len(cases) == FURTHER and all(_confirms(student, sizes, seed, causes.backward_right)
                                       for sizes, seed in cases)
    return "backward_one_output" if ok else None


def _confirms(student, sizes, seed, predicate):
    e = backward_evidence(student, sizes, seed)
    return e is not None and bool(predicate(e))
