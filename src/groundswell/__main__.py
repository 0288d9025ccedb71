import sys

from groundswell.cli import main

sys.exit(main())
