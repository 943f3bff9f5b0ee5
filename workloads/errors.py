"""The one kind of error that is the user's input, not a bug."""


class InputError(ValueError):
    """Bad input (a flag, a workload file, a data file, a run folder): shown as one line, exit code 2.

    Everything else that goes wrong is a bug and keeps its traceback.
    """
