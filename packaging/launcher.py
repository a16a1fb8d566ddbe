"""The frozen program's script: the same ``responder-console`` command as ``ui.entry:main``.

PyInstaller freezes this file (packaging/responder-console.spec); everything else is
imported from the ``console`` and ``ui`` packages as in a source install.
"""

import sys

from ui.entry import main

if __name__ == "__main__":
    sys.exit(main())
