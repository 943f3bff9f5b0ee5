"""The dashboard process's side of a run: no framework and no Textual import.

A run session (``run_session``) plans and starts a run: the ``launcher`` owns the
runner processes and reads their channels (``channel_reader``) into the run
folder (``recording``); ``replay`` reads a run folder back (replay, attach).
``host_monitor`` and ``nvml_monitor`` sample the runners from outside; events and
samples fold into ``state``; ``parity`` judges the runners against each other and
``summary`` ranks them and words the verdict.
"""
