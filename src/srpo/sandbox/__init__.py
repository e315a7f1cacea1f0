"""Isolated execution of untrusted code with resource limits; knows nothing of problems."""
