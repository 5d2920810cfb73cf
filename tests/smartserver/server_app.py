# Runs the SmartServer from the source tree (tools/ on the path), as `smartserver` would.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from smartserver.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
