"""crossgrad grade: gradient assignments graded against a three-way-checked reference.

assignment.py        the TOML format, trial values
reference.py         references (each trial checked three ways by crossgrad first)
check_assignment.py  --check-assignment: the TOML validated with line numbers, the solution graded
sandbox.py           the bubblewrap sandbox: what a submission sees, its uid, its rlimits
supervise.py         one child run from outside: deadlines, output cap, kill of every process
execute.py           a submission's problems run in sandboxed children (a crash costs one problem)
runner.py            the child process itself (standard library + numpy only)
answers.py           the strict schema of a child's (untrusted) answers
diagnose.py          recognises common mistakes by comparing against transformed references
grade.py             scores, feedback, Gradescope's results.json, folders of submissions
cache.py             regrading only what changed
summary.py           the staff CSV and one-page HTML summary
stages.py            intermediate gradients (named stages) and the first wrong stage
pages.py             --html-dir: each problem's reference check as an HTML report
See docs/grading.md.
"""
