"""Deadlines, extensions, late policies and submission times: the pure parts, without grading.

The graded behaviour (nbgrader's late-submission step applying the policy, grades.csv, the
gradebook and the exports agreeing) is in tests/test_after_deadline.py, on one graded batch.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

import pytest

from autograder.grading.collect import batch
from autograder.grading.rules import late
from autograder.grading.vocabulary import GraderError

UTC = dt.timezone.utc


def test_a_deadline_with_a_time_zone_is_read_as_that_instant_in_utc():
    assert late.parse_when("2026-12-01T23:59+01:00", "--due") == dt.datetime(
        2026, 12, 1, 22, 59, tzinfo=UTC
    )


def test_a_deadline_without_a_time_zone_is_refused_with_an_example():
    with pytest.raises(GraderError, match=r"no time zone.*\+01:00"):
        late.parse_when("2026-12-01T23:59", "--due")


def test_a_deadline_that_is_not_a_date_names_the_option():
    with pytest.raises(GraderError, match="--due 01_derivatives=friday"):
        late.parse_due(["01_derivatives=friday"])


def test_a_lesson_deadline_wins_over_the_batch_deadline():
    d = late.parse_due(["2026-12-01T12:00Z", "02_chain_rule=2026-12-08T12:00Z"])
    assert d.due("02_chain_rule") == dt.datetime(2026, 12, 8, 12, tzinfo=UTC)
    assert d.due("01_derivatives") == dt.datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_the_command_line_wins_over_the_deadlines_kept():
    table = {"02_chain_rule": "2026-11-01T00:00Z", "03_gradients": "2026-11-15T00:00Z"}
    kept = late.parse_table(table, "[tool.course.deadlines]")
    d = late.parse_due(["02_chain_rule=2026-12-08T12:00Z"], kept)
    assert d.due("02_chain_rule") == dt.datetime(2026, 12, 8, 12, tzinfo=UTC)
    assert d.due("03_gradients") == dt.datetime(2026, 11, 15, tzinfo=UTC)
    assert d.due("04_gradient_descent") is None


def test_a_batch_deadline_wins_over_the_deadlines_kept():
    kept = {"02_chain_rule": dt.datetime(2026, 11, 1, tzinfo=UTC)}
    d = late.parse_due(["2026-12-08T12:00Z"], kept)
    assert d.due("02_chain_rule") == dt.datetime(2026, 12, 8, 12, tzinfo=UTC)


def test_the_course_deadlines_table_is_read_from_pyproject(tmp_path):
    from autograder.course import settings

    (tmp_path / "pyproject.toml").write_text(
        '[tool.course.deadlines]\n"01_derivatives" = "2026-12-01T23:59+01:00"\n'
    )
    table = late.parse_table(settings(tmp_path).deadlines, "[tool.course.deadlines]")
    assert late.parse_due([], table).due("01_derivatives") == dt.datetime(
        2026, 12, 1, 22, 59, tzinfo=UTC
    )


def test_two_batch_deadlines_are_refused():
    with pytest.raises(GraderError, match="twice"):
        late.parse_due(["2026-12-01T12:00Z", "2026-12-02T12:00Z"])


@pytest.mark.parametrize(
    ("seconds", "hours_charged"), [(1, 1), (3600, 1), (3601, 2), (2.5 * 3600, 3)]
)
def test_per_hour_charges_every_started_hour(seconds, hours_charged):
    policy = late.Policy("per-hour", rate=10, cap=100)
    assert policy.percent(seconds) == 10 * hours_charged


def test_per_day_charges_every_started_day():
    policy = late.Policy("per-day", rate=20, cap=100)
    assert policy.percent(86400 + 1) == 40


def test_the_cap_bounds_the_penalty():
    policy = late.Policy("per-hour", rate=10, cap=50)
    assert policy.penalty(4.0, 10 * 3600) == 2.0


def test_zero_takes_the_whole_score():
    assert late.Policy("zero").penalty(3.5, 1) == 3.5


def test_no_policy_and_an_on_time_notebook_cost_nothing():
    assert late.Policy("none").penalty(4.0, 10 * 86400) == 0
    assert late.Policy("per-day", rate=10).penalty(4.0, 0) == 0


def test_a_rate_policy_without_a_rate_is_refused():
    with pytest.raises(GraderError, match="rate"):
        late.Policy("per-day", rate=0)


def test_the_plugin_is_nbgraders_late_submission_plugin_with_the_policy():
    from nbgrader.plugins import LateSubmissionPlugin
    from nbgrader.preprocessors import AssignLatePenalties

    step = AssignLatePenalties(config=late.plugin_config(late.Policy("per-hour", 10, 50)))
    step.init_plugin()
    assert isinstance(step.plugin_inst, LateSubmissionPlugin)
    assert step.plugin_inst.late_submission_penalty("s", 4.0, 2 * 3600) == 0.8


def test_late_by_leaves_out_zero_parts():
    assert late.show_duration(86400 + 5 * 60) == "1d 5m"
    assert late.show_duration(2 * 3600 + 31 * 60) == "2h 31m"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_extensions_are_read_with_their_new_due_time(tmp_path):
    path = write(
        tmp_path / "ext.csv", "student_id,lesson,due\nada,01_derivatives,2026-12-03T00:00Z\n"
    )
    (e,) = late.read_extensions(path)
    assert (e.student, e.lesson, e.due) == (
        "ada",
        "01_derivatives",
        dt.datetime(2026, 12, 3, tzinfo=UTC),
    )


def test_an_extensions_file_with_another_header_names_file_and_line(tmp_path):
    path = write(tmp_path / "ext.csv", "student,lesson,when\nada,01,2026-12-03T00:00Z\n")
    with pytest.raises(GraderError, match=rf"{path}:1: the header must be student_id,lesson,due"):
        late.read_extensions(path)


def test_a_bad_time_in_the_extensions_names_file_and_line(tmp_path):
    path = write(
        tmp_path / "ext.csv", "student_id,lesson,due\nada,01,2026-12-03T00:00Z\nben,01,soon\n"
    )
    with pytest.raises(GraderError, match=rf"{path}:3: 'soon' is not an ISO 8601"):
        late.read_extensions(path)


def test_a_line_with_too_few_fields_names_file_and_line(tmp_path):
    path = write(tmp_path / "ext.csv", "student_id,lesson,due\nada,2026-12-03T00:00Z\n")
    with pytest.raises(GraderError, match=rf"{path}:2: expected 3 fields"):
        late.read_extensions(path)


def test_a_second_extension_for_one_student_and_lesson_is_refused(tmp_path):
    rows = "ada,01,2026-12-03T00:00Z\n" * 2
    path = write(tmp_path / "ext.csv", "student_id,lesson,due\n" + rows)
    with pytest.raises(GraderError, match=rf"{path}:3: a second extension.*{path}:2"):
        late.read_extensions(path)


def _notebook(folder: Path, when: dt.datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = write(folder / "01_derivatives.ipynb", '{"cells": [], "metadata": {}}')
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def test_nbgraders_timestamp_txt_is_read_in_an_exchange_tree_when_asked(tmp_path):
    from autograder.grading.collect.times import EXCHANGE_TIME, folder_time

    student = tmp_path / "submitted" / "ada"
    path = _notebook(student / "01_derivatives", dt.datetime(2026, 12, 5, tzinfo=UTC))
    write(path.parent / "timestamp.txt", "2026-12-01 10:00:00.000000 UTC")
    got = folder_time(path, student, "nbgrader", exchange_times=True)
    assert (got.when, got.time_source) == (dt.datetime(2026, 12, 1, 10, tzinfo=UTC), EXCHANGE_TIME)
    kept = folder_time(path, student, "nbgrader", exchange_times=False)
    assert kept.time_source == "the file's time" and "--exchange-timestamps" in kept.note


def test_a_timestamp_txt_in_a_students_own_folder_is_never_read(tmp_path):
    from autograder.grading.collect.times import folder_time

    late_time = dt.datetime(2026, 12, 5, tzinfo=UTC)
    path = _notebook(tmp_path / "ada", late_time)
    write(path.parent / "timestamp.txt", "2026-12-01 10:00:00.000000 UTC")
    for layout in ("folders", "zip"):
        got = folder_time(path, tmp_path / "ada", layout, exchange_times=True)
        assert got.when == late_time and "not read" in got.note


def test_an_unreadable_exchange_timestamp_falls_back_to_the_files_time_and_says_so(tmp_path):
    from autograder.grading.collect.times import folder_time

    when = dt.datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
    student = tmp_path / "submitted" / "ada"
    path = _notebook(student / "01_derivatives", when)
    write(path.parent / "timestamp.txt", "yesterday-ish")
    got = folder_time(path, student, "nbgrader", exchange_times=True)
    assert (got.when, got.time_source) == (when, "the file's time")
    assert "timestamp.txt unreadable" in got.note


def test_a_zipped_notebook_takes_its_zip_entry_time(tmp_path):
    from autograder.grading.collect.times import resolve

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("class/ada/01_derivatives.ipynb", (2026, 12, 1, 9, 30, 0))
        zf.writestr(info, '{"cells": [], "metadata": {}}')
    found = batch.read(batch.Sources((archive,)), tmp_path / "work", None)
    (n,) = found.notebooks
    got = resolve(n.origin, None)
    assert got.source == "the zip entry's time"
    # a zip stores local time without a zone: the entry's wall-clock time, read on this machine
    assert got.when == dt.datetime(2026, 12, 1, 9, 30).astimezone(UTC)


@pytest.mark.parametrize(("mark", "seconds"), [(False, 0), (True, 1)])
def test_canvas_late_marks_are_counted_against_the_deadline(mark, seconds):
    from autograder.grading.collect.ingest import Origin
    from autograder.grading.collect.times import resolve

    due = dt.datetime(2026, 12, 1, 22, 59, tzinfo=UTC)
    download = dt.datetime(2026, 12, 9, tzinfo=UTC)  # Canvas's entries: the time of zipping
    got = resolve(Origin("canvas", download, "the zip entry's time", late_mark=mark), due)
    assert got.when == due + dt.timedelta(seconds=seconds) and "Canvas" in got.source


def test_moodle_worksheet_times_are_read_as_moodle_writes_them():
    from autograder.grading.collect.lms import moodle_time

    got = moodle_time("Monday, 7 December 2026, 9:05 AM")
    assert got == dt.datetime(2026, 12, 7, 9, 5).astimezone(UTC)
    assert moodle_time("-") is None


def test_the_written_timestamp_is_read_back_by_nbgrader(tmp_path):
    from nbgrader.coursedir import CourseDirectory

    when = late.SubmissionTime(dt.datetime(2026, 12, 1, 22, 59, 30, tzinfo=UTC), "x")
    late.write_timestamp(tmp_path, when)
    read = CourseDirectory().get_existing_timestamp(str(tmp_path))
    assert read == when.when.replace(tzinfo=None)
