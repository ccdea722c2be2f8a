"""The symbolic witness: SymPy lowerings of every op's forward definition, derivatives only by
``sympy.diff``. Never imports the numeric engine (a test enforces it)."""
