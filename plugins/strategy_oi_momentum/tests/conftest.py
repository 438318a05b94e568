"""Makes the test driver importable under pytest's importlib mode (a unique module name avoids clashes)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
