import sys

from smartserver.cli import main

sys.exit(main())
