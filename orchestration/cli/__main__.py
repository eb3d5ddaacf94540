"""`python -m orchestration.cli ...` is `csp ...`."""
import sys

from orchestration.cli.main import console_main

if __name__ == "__main__":
    sys.exit(console_main())
