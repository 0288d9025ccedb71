import sys

from groundswell.launcher import main

sys.exit(main())
