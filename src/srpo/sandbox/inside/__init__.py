"""Code that runs inside the sandbox: the zygote, the per-program harness, and their helpers.

These modules use the standard library only. srpo sends their source to the sandboxed interpreter
at start-up (see `srpo.sandbox.worker`), so nothing of srpo has to be installed where the sandbox
runs. They are importable outside too, for the parent's framing and for unit tests.
"""
