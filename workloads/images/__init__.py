"""Image folders: the usual one-subfolder-per-class layout, read into the arrays every runner trains on, and a
generator of such folders for tests and demos (no download)."""
