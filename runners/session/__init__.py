"""The dashboard process's side of a run: no framework and no Textual import.

A run session (``run_session``) turns a plan (``planning``) into runner processes
(``launching``), recorded into the run folder (``record``), joined by other hosts
(``hosts``) and sampled from outside (``monitoring``). One ``observer`` folds the
events and samples into each runner's figures (``state``) for every view; at the
end ``verdict`` ranks the runners, judges their parity and words the outcome.
Views read events through one interface (``sources``).
"""
