"""Screens pushed over the main screen: runner detail, help, the quit confirmation."""
