"""Practice assessment: a client's documents checked against the CTO's checklist, with conflicts."""
