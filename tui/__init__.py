"""What the user sees and types: the Textual dashboard (``app``, ``main_screen``, ``screens/``,
``widgets/``), console output without Textual (``console/``) and the command line (``cli/``).

It follows a run session or a recording through the event-source interface
(``runners.session.sources``) and never imports a framework.
"""
