"""Verification: answer extraction, math equivalence, code grading, the reward API."""
