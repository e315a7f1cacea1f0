"""srpo: a verified, difficulty-graded problem catalog and a GRPO trainer with history resampling.

Importing `srpo` does no work: subpackages import their heavy dependencies inside the functions
that need them, so that `srpo-curate --help` starts fast and never imports torch.
"""

__version__ = "0.1.0"
