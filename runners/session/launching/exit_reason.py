"""Why a runner process ended without saying so itself: its signal and what that usually means, or the last
line of its error output (an import that failed as the runner package loaded, a native library's last word)."""

from __future__ import annotations

import re
import signal

# What each signal usually means for a training process, in a user's words.
_SIGNAL_MEANINGS = {
    signal.SIGKILL: "out of memory? (the kernel's out-of-memory killer sends it; `dmesg` says)",
    signal.SIGSEGV: "a crash in native code (a segmentation fault)",
    signal.SIGBUS: "a crash in native code (a bad memory access)",
    signal.SIGILL: "a crash in native code (an instruction this CPU lacks?)",
    signal.SIGFPE: "a crash in native code (an arithmetic fault)",
    signal.SIGABRT: "a native library gave up",
    signal.SIGTERM: "terminated from outside kvp-dash",
}
# A Python exception's last traceback line ("ModuleNotFoundError: No module named 'x'"), or a native library's
# "F1205 …] Check failed" / "terminate called after …" / "Fatal Python error: …".
_ERROR_LINE = re.compile(r"^([\w.]+(Error|Exception|Exit|Interrupt|Warning)\b.*|Fatal Python error.*|"
                         r"terminate called.*|[FE]\d{4} .*|.*Check failed.*|.*(Killed|Aborted|core dumped).*)$")


def last_error_line(output: str) -> str | None:
    """The output's last line that reads as an error, else its last non-blank line; None when it has none."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in reversed(lines) if _ERROR_LINE.match(line)), lines[-1] if lines else None)


def exit_reason(returncode: int, output: str) -> str:
    """One line: how the process ended and, from its output, why."""
    last = last_error_line(output)
    if returncode < 0:
        try:
            number = signal.Signals(-returncode)
        except ValueError:
            return f"runner process killed by signal {-returncode}"
        meaning = _SIGNAL_MEANINGS.get(number)
        said = f"runner process killed by {number.name}" + (f" — {meaning}" if meaning else "")
        return said + (f"; its last output: {last}" if last and number != signal.SIGKILL else "")
    return f"runner process exited with code {returncode}" + (f": {last}" if last else " and wrote nothing")
