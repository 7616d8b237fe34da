"""The PySide6 desktop app: the only package that imports Qt.

Widgets stay thin: every slow call goes to :class:`app.service.Service` through the one job
mechanism in :mod:`app.gui.jobs`, and results come back as Qt signals on the GUI thread.
"""
