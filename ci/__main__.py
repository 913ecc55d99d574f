"""`python -m ci ...`: see ci/cli.py."""
import sys

from ci.cli import main

sys.exit(main())
