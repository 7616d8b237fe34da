"""The window's panels; each is a plain QWidget that talks to the window through signals."""
