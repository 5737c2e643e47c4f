"""`python -m serialtrace.cli`: the console script."""

from . import main

main()
