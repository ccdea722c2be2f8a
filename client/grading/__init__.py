"""crossgrad grade: gradient assignments graded against a three-way-checked reference.

assignment.py  the TOML format, trial values, references (each checked by crossgrad first)
sandbox.py     runs a submission's functions in a child process with time and memory limits
runner.py      the child process itself
diagnose.py    recognises common mistakes by comparing against transformed references
grade.py       scores, feedback, Gradescope's results.json, folders of submissions
"""
