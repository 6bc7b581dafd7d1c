"""Shared helpers for the test suite: paths, the corpora, a cached grader, and the quick loop.

The quick loop is ``python -m pytest -q -m "not slow"`` (docs/developers.md); ``.ci/run`` runs
everything. Two rules mark a test ``slow`` (left out of the quick loop):

* SLOW names the tests that each take many seconds (a real nbgrader course, a notebook run, a
  browser, a mutation sample, a time budget or a hang waited out). A name in SLOW that matches no
  collected test fails a whole run, so the list cannot rot silently.
* The corpus sample: a test parametrised over corpus files runs, in the quick loop, only for the
  files of ``quick_corpus()``, a sample chosen by a rule on the files' headers and names (one file per
  set of rubric ids lost, one hostile file per kind, every QUICK_STRIDE-th valid and wrong file, every
  notebook), so that it follows the corpus as files are added. A whole run in which the rule marks no
  test fails, so the rule cannot silently stop applying.

``python tests/quick_coverage.py`` checks that the quick loop still executes every module of
autograder/; tests/test_quick_loop.py checks the sample and the two loud failures.
"""

import functools
import glob
import importlib
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SOLUTION = os.path.join(ROOT, "solutions", "random_init.py")
CORPUS = os.path.join(ROOT, "tests", "corpus")


# Besides one file per outcome, every QUICK_STRIDE-th valid and wrong file (in name order) is in the
# quick loop: a spread over the ways of being right or wrong that no header names. Hostile files are
# sampled by outcome and kind only: each is graded by the command line in a process of its own, several
# times the cost of an in-process grading of a wrong or valid file.
QUICK_STRIDE = 5

SLOW = (
    # whole modules: a real course, a kernel, a browser, a cluster, the lesson's studies
    "tests/test_notebook.py", "tests/test_nbgrader_course.py", "tests/test_nbgrader_browser.py",
    "tests/test_ui_browser.py", "tests/test_html_browser.py", "tests/test_dask.py",
    "tests/test_lesson_claims.py", "tests/test_class_folder.py", "tests/test_release.py",
    "tests/test_feedback_look.py",
    # single tests that wait out hangs, run kernels or replay every search
    "tests/test_nbgrader_steps.py::test_execution_mode_runs_the_kernel_as_a_private_uid_with_no_network",
    "tests/test_search_memory.py::test_replayed_searches_give_the_messages_of_real_ones_in_any_order",
    "tests/test_hostile.py::test_same_scores_and_messages_under_any_hash_seed",
    "tests/test_hostile.py::test_hostile_submission_is_contained[slow_every_reply.py]",
    "tests/test_hostile.py::test_hostile_submission_is_contained[hang_at_import.py]",
    "tests/test_hostile.py::test_hostile_submission_is_contained[leaves_files_behind.py]",
    "tests/test_hostile.py::test_hostile_submission_is_contained[slow_wrong_backward.py]",
    # the time budget waited out (SUBMISSION_SECONDS, 60 s of wall time each, mostly asleep)
    "tests/test_hostile.py::test_documented_worst_case_wall_time_is_a_bound",
    "tests/test_hostile.py::test_time_budget_keeps_the_real_failure_and_says_what_was_not_checked",
    "tests/test_hostile.py::test_budget_order_gives_every_item_its_first_cases_before_any_search",
    "tests/test_lesson_tools.py::test_lesson_cells_run_with_the_reference",
    "tests/test_lesson_tools.py::test_lesson_cells_degrade_with_stubs",
    "tests/test_mutation.py::test_ci_sample_every_mutant_is_killed_or_a_reviewed_equivalent",
    # a real course or a notebook kernel in namespaces of its own
    "tests/test_nbgrader_kernel_namespaces.py::test_what_the_kernel_writes_to_temp_folders_and_shared_memory_never_reaches_the_host",
    "tests/test_nbgrader_kernel_namespaces.py::test_without_cap_sys_admin_no_kernel_runs_the_grade_is_the_same_and_the_log_says_why",
    "tests/test_nbgrader_kernel_namespaces.py::test_the_walk_of_the_hosts_temp_folders_is_skipped_only_once_the_kernel_is_verified",
    "tests/test_nbgrader_kernel_namespaces.py::test_a_kernel_whose_launcher_cannot_leave_the_network_runs_no_cell",
    "tests/test_mutation.py::test_a_base_that_does_not_score_100_is_refused",
    # measured over 2.5 s each in the quick loop (pytest --durations, quiet machine)
    "tests/test_hostile.py::test_hostile_submission_is_contained[slow_top_level_rerun.py]",
    "tests/test_hostile.py::test_hostile_submission_is_contained[fork_memory.py]",
    "tests/test_hostile.py::test_hostile_submission_is_contained[hang_in_forward.py]",
    "tests/test_hostile.py::test_hostile_submission_is_contained[hang_at_one_size.py]",
    "tests/test_hostile.py::test_hostile_submission_is_contained[slow_wrong_forward_shrinking.py]",
    "tests/test_hostile.py::test_escaped_process_is_killed",
    "tests/test_batch.py::test_pool_children_are_born_in_the_templates_memory_cgroup_which_spares_the_template",
    "tests/test_batch.py::test_sigterm_stops_a_run_cleanly",
    "tests/test_batch.py::test_grades_and_messages_are_the_same_with_and_without_the_saved_memory",
    "tests/test_batch.py::test_a_corrupted_or_planted_memory_is_ignored_with_a_note_and_changes_nothing",
    "tests/test_batch.py::test_one_bad_submission_never_stops_the_batch",
    "tests/test_batch.py::test_a_rerun_after_late_submissions_replays_from_the_saved_memory",
    "tests/test_batch.py::test_shared_searches_change_no_grade",
    "tests/test_html_report.py::test_limits_are_read_from_the_runners_words",
    "tests/test_causes.py::test_every_rule_against_every_wrong_submission",
    "tests/test_hostile.py::test_a_hang_met_while_searching_keeps_the_failure_found_before_it",
    "tests/test_verdicts.py::test_passed_items_carry_no_extra_data_and_hangs_are_a_kind",
    "tests/test_round_trips.py::test_slow_cases_each_in_time_pass_although_together_they_exceed_one_limit",
    "tests/test_concurrency.py::test_concurrent_sweeps_never_take_a_live_gradings_uid_or_home",
    "tests/test_batch.py::test_a_state_file_others_could_write_is_ignored_and_everyone_regraded",
    "tests/test_outputs_unchanged.py::test_the_whole_corpus_writes_what_the_snapshot_recorded",
    # grades 86 of the 94 wrong files (each hint against its neighbours); the sample stands in for it
    "tests/test_causes.py::test_cause_fires_on_its_mistake_and_not_on_its_near_misses",
)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: left out of the quick loop (-m 'not slow'): SLOW or the corpus sample")


def pytest_collection_modifyitems(config, items):
    used = set()
    sampled = 0
    quick = quick_corpus()
    for item in items:
        for name in SLOW:
            if item.nodeid == name or item.nodeid.startswith((name + "::", name + "[")):
                item.add_marker(pytest.mark.slow)
                used.add(name)
        if corpus_files_of(item) - quick:
            item.add_marker(pytest.mark.slow)
            sampled += 1
    whole_run = not config.getoption("keyword") and not config.args[1:] and all(
        os.path.abspath(a).rstrip(os.sep) == os.path.join(ROOT, "tests") for a in config.args)
    stale = [name for name in SLOW if name not in used and os.path.exists(os.path.join(ROOT, name.split("::")[0]))]
    if whole_run and stale:
        raise pytest.UsageError("tests/conftest.py SLOW names tests that no longer exist: %s" % ", ".join(stale))
    if whole_run and not sampled:
        raise pytest.UsageError("tests/conftest.py: the corpus sample marked no test; no test is parametrised "
                                "with corpus paths any more, so quick_corpus() no longer applies: fix the rule")


def corpus_files_of(item):
    """The corpus files an item's parameters name: absolute paths under tests/corpus, or file names."""
    found = set()
    values = list(getattr(getattr(item, "callspec", None), "params", {}).values())
    while values:
        value = values.pop()
        if isinstance(value, (list, tuple, set, frozenset)):
            values.extend(value)
        elif isinstance(value, (str, os.PathLike)):
            found |= _corpus_index().get(os.fspath(value), set())
    return found


@functools.lru_cache(maxsize=None)
def _corpus_index():
    """{absolute path or file name: {absolute path}} for every corpus file."""
    index = {}
    for path in glob.glob(os.path.join(CORPUS, "*", "*")):
        for key in (path, os.path.basename(path)):
            index.setdefault(key, set()).add(path)
    return index


def _features(kind, path, expected):
    """What one sampled file must stand for: its exact set of lost ids and, if hostile, its kind (the
    first word of its name: hang_*, protocol_*, forge_*...)."""
    found = {(kind, "lost", expected)}
    if kind == "hostile":
        found.add((kind, "kind", os.path.basename(path).split("_")[0]))
    return found


@functools.lru_cache(maxsize=None)
def quick_corpus():
    """The corpus files the quick loop grades: in name order, each file that brings a feature no earlier
    file brought (every set of rubric ids lost, every kind of hostility), every QUICK_STRIDE-th valid and
    wrong file, and every notebook (each is its own flavour)."""
    chosen = set(glob.glob(os.path.join(CORPUS, "notebooks", "*.ipynb")))
    covered = set()
    for kind in ("valid", "wrong", "hostile"):
        for n, (path, expected) in enumerate(corpus(kind)):
            new = _features(kind, path, expected) - covered
            if new or (kind != "hostile" and n % QUICK_STRIDE == 0):
                chosen.add(path)
                covered |= new
    return frozenset(chosen)


def need(module, extra):
    """Import ``module`` for a test module that needs the optional ``extra``; without it, skip with the
    reason, unless $AUTOGRADER_REQUIRE_EXTRAS is set (as .ci/run sets it), where a missing extra fails."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        why = "needs %s: pip install -e \".[%s]\" (%s)" % (module, extra, exc)
        if os.environ.get("AUTOGRADER_REQUIRE_EXTRAS"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why, allow_module_level=True)


def corpus(kind):
    """[(path, expected lost ids)] for tests/corpus/<kind>/*.py; 'full' means nothing lost."""
    cases = []
    for path in sorted(glob.glob(os.path.join(CORPUS, kind, "*.py"))):
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        assert first.startswith("# expect:"), "%s must start with a '# expect:' line" % path
        words = first.split(":", 1)[1].split()
        cases.append((path, frozenset() if words == ["full"] else frozenset(words)))
    return cases


@functools.lru_cache(maxsize=None)
def graded(path):
    """engine.grade(path), cached: several tests look at the same submission."""
    from autograder.grading.engine import grade
    return grade(path)


def feedback_files(folder):
    """{file name: results.json} of a grade-all feedback folder, without execution_time (a measurement)."""
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            data = json.load(f)
        data.pop("execution_time", None)
        out[name] = data
    return out
