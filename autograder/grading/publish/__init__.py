"""Phase 6, publish: what the grader writes for instructors, students and the LMS.

publish     the order of publishing: records, CSVs, feedback pages, run.json, the report
rows        grades.csv and exercises.csv from the gradebook and the outcomes
feedback    the student's page
report      the instructor's page
similarity  similar answers, pointed out for a person to look at
lms         grades.csv as Canvas, Moodle or spreadsheet import files
"""
