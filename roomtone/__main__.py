import sys

from roomtone.cli import main

sys.exit(main())
