"""crossgrad.client: SDK, CLI and grading tool (issues 4 and 5)."""
