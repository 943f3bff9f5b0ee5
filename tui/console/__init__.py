"""What kvp-dash prints without Textual: headless mode's live table and lines, check's parity table,
sweep's report and the standings. Rich renderables on a console that never cuts a name or a figure
when the output is not a terminal (``output.console``)."""
