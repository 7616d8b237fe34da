"""Entry point of the frozen ``dossier`` executable (PyInstaller's script).

Why a separate file: PyInstaller needs a script, not a console-script entry. It stays tiny
because every child process of the bundle (PDF parser, model process, index helper; all
``multiprocessing`` spawn children) starts by running this file again: ``main()`` calls
``multiprocessing.freeze_support()`` first, which turns such a start into the child's job
and exits, before anything heavy is imported.
"""

import sys

from app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
