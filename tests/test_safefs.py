"""The read side of the file-safety layer (autograder/sandbox/safefs.py): what a class folder can hold.

Each test plants one thing a student (or an archive unpacked as root) can leave in a folder, and checks
that the reader refuses it with a reason instead of following, blocking, exhausting memory or crashing.
"""

import os
import stat

import pytest

from autograder.grading import grader_rules
from autograder.sandbox import safefs, submission

LIMIT = 1 << 20


def _write(path, data=b"x = 1\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_reads_a_regular_file(tmp_path):
    path = _write(str(tmp_path / "a" / "random_init.py"), b"print(1)\n")
    assert safefs.read_regular(path, LIMIT) == b"print(1)\n"


def test_refuses_a_link_as_the_file(tmp_path):
    target = _write(str(tmp_path / "solutions" / "random_init.py"))
    link = str(tmp_path / "alice.py")
    os.symlink(target, link)
    with pytest.raises(safefs.Refused, match="is a link"):
        safefs.read_regular(link, LIMIT)


def test_refuses_a_link_anywhere_above_the_file(tmp_path):
    _write(str(tmp_path / "solutions" / "random_init.py"))
    os.symlink(str(tmp_path / "solutions"), str(tmp_path / "alice"))
    with pytest.raises(safefs.Refused, match="is a link") as info:
        safefs.read_regular(str(tmp_path / "alice" / "random_init.py"), LIMIT)
    assert info.value.path == str(tmp_path / "alice")


def test_refuses_a_fifo_without_blocking(tmp_path):
    fifo = str(tmp_path / "random_init.py")
    os.mkfifo(fifo)
    with pytest.raises(safefs.Refused, match="not a regular file"):
        safefs.read_regular(fifo, LIMIT)


def test_refuses_a_device_and_a_link_to_it(tmp_path):
    with pytest.raises(safefs.Refused, match="not a regular file"):
        safefs.read_regular("/dev/zero", LIMIT)
    link = str(tmp_path / "random_init.py")
    os.symlink("/dev/zero", link)
    with pytest.raises(safefs.Refused, match="is a link"):
        safefs.read_regular(link, LIMIT)


def test_caps_the_size(tmp_path):
    path = _write(str(tmp_path / "big.py"), b"#" * (LIMIT + 1))
    with pytest.raises(safefs.Refused, match="larger than 1 MB"):
        safefs.read_regular(path, LIMIT)
    assert len(safefs.read_regular(_write(str(tmp_path / "ok.py"), b"#" * LIMIT), LIMIT)) == LIMIT


def test_walk_survives_a_very_deep_tree(tmp_path):
    deep_tree(str(tmp_path), 1200)
    _write(str(tmp_path / "random_init.py"))
    try:
        files, skipped = safefs.walk(str(tmp_path), 12, 20000, keep=lambda n: n.endswith(".py"))
        assert [rel for rel, _ in files] == ["random_init.py"]
        assert skipped == [(os.path.join(*["d"] * 13), "more than 12 folders deep")]
    finally:
        remove_deep_tree(str(tmp_path / "d"))    # pytest's clean-up recurses, and 1,200 levels exceed its limit


def deep_tree(top, levels):
    """``top``/d/d/.../d, ``levels`` folders deep; returns the deepest."""
    deep = top
    for _ in range(levels):
        deep = os.path.join(deep, "d")
        os.mkdir(deep)
    return deep


def remove_deep_tree(top):
    """Remove a tree of single folders bottom-up, without recursion (pytest's cleanup would recurse)."""
    deep = top
    while os.path.isdir(os.path.join(deep, "d")):
        deep = os.path.join(deep, "d")
    while len(deep) >= len(top):
        for name in os.listdir(deep):
            os.unlink(os.path.join(deep, name))
        os.rmdir(deep)
        deep = os.path.dirname(deep)


def test_walk_notes_links_fifos_and_keeps_odd_names(tmp_path):
    latin1 = os.fsdecode(b"r\xe9sum\xe9.py")             # a Latin-1 name, as unzip leaves Windows names
    _write(os.path.join(str(tmp_path), latin1))
    os.mkfifo(str(tmp_path / "pipe.py"))
    os.symlink("/etc", str(tmp_path / "etc"))
    os.symlink("/dev/zero", str(tmp_path / "zero.py"))
    os.symlink("/dev/zero", str(tmp_path / "zero.txt"))     # not code, not a folder: not worth a note
    files, skipped = safefs.walk(str(tmp_path), 12, 20000, keep=lambda n: n.endswith(".py"))
    assert [rel for rel, _ in files] == [latin1]
    assert sorted(skipped) == [("etc", "a link: the grader reads no link"), ("pipe.py", "not a regular file"),
                               ("zero.py", "a link: the grader reads no link")]
    assert safefs.shown(latin1) == "r\\xe9sum\\xe9.py"
    assert safefs.shown("a\x1b[2Jb\r") == "a\\x1b[2Jb\\r"


def test_walk_stops_after_max_entries(tmp_path):
    for i in range(30):
        _write(str(tmp_path / ("f%02d.py" % i)))
    files, skipped = safefs.walk(str(tmp_path), 12, 10, keep=lambda n: True)
    assert len(files) == 10 and skipped == [("", "stopped looking after 10 files and folders")]


def test_grade_refuses_a_submission_reached_through_a_link(tmp_path):
    """A student folder that is a link to solutions/ is not graded as the student's (issue 23)."""
    _write(str(tmp_path / "solutions" / "random_init.py"))
    os.symlink(str(tmp_path / "solutions"), str(tmp_path / "alice"))
    for path in (str(tmp_path / "alice"), str(tmp_path / "alice" / "random_init.py")):
        with pytest.raises(submission.SubmissionError, match="is a link, and the grader follows no link"):
            submission.prepare(path, grader_rules)


# -- listing a class folder, and writing where a student could plant something ------------------------
def test_listdir_names_links_and_follows_none(tmp_path):
    _write(str(tmp_path / "alice.py"))
    os.symlink(str(tmp_path / "alice.py"), str(tmp_path / "bob.py"))
    os.symlink("/etc", str(tmp_path / "carol"))
    entries = {name: (stat.S_IFMT(st.st_mode), to_dir) for name, st, to_dir in safefs.listdir(str(tmp_path))}
    assert entries == {"alice.py": (stat.S_IFREG, False), "bob.py": (stat.S_IFLNK, False),
                       "carol": (stat.S_IFLNK, True)}
    os.symlink(str(tmp_path), str(tmp_path.parent / (tmp_path.name + "-link")))
    with pytest.raises(safefs.Refused, match="is a link"):
        safefs.listdir(str(tmp_path.parent / (tmp_path.name + "-link")))


@pytest.mark.parametrize("planted", ["folder", "link", "fifo"])
def test_write_with_clear_replaces_what_was_planted(tmp_path, planted):
    target, victim = str(tmp_path / "result.json"), tmp_path / "victim"
    victim.write_text("keep")
    if planted == "folder":
        os.makedirs(os.path.join(target, "inside"))
    elif planted == "link":
        os.symlink(str(victim), target)
    else:
        os.mkfifo(target)
    if planted == "folder":
        with pytest.raises(OSError):
            safefs.write_bytes(target, b"{}")              # without clear, a folder stops the write
    safefs.write_bytes(target, b"{}", clear=True)
    assert not os.path.islink(target) and open(target, "rb").read() == b"{}" and victim.read_text() == "keep"
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith(".")]     # nothing left aside


def test_append_never_writes_through_a_link(tmp_path):
    victim, target = tmp_path / "victim", str(tmp_path / "summary.md")
    victim.write_text("keep")
    os.symlink(str(victim), target)
    safefs.append_bytes(target, b"one\n")
    safefs.append_bytes(target, b"two\n")
    assert victim.read_text() == "keep" and open(target, "rb").read() == b"one\ntwo\n"


def test_leftovers_of_a_killed_writer_are_known_by_name():
    name = safefs._temp_name("grades.csv")
    assert safefs.is_leftover(name, "grades.csv") and not safefs.is_leftover(name, "other.csv")
    assert not safefs.is_leftover("grades.csv") and not safefs.is_leftover(".grades.csv.tmp")


def test_messages_name_no_server_folder(tmp_path):
    """A student reads these messages (PrairieLearn, Gradescope): the last part of a path only (issue 27.5)."""
    empty = tmp_path / "student"
    empty.mkdir()
    for path in (str(empty), str(tmp_path / "missing.py")):
        with pytest.raises(submission.SubmissionError) as info:
            submission.prepare(path, grader_rules)
        assert str(tmp_path) not in str(info.value) and os.path.basename(path) in str(info.value)
