"""`kvp-dash infer`: one serving path in a runner process: the model built from the run's weights, exported and
loaded the path's way (``routes``), then timed call by call (``runner``)."""
