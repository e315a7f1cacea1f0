"""Thin command-line apps: parse options, call one library function, print the result."""
