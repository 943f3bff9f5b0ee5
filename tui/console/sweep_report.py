"""``kvp-dash sweep``'s report: the Keras ÷ PyTorch throughput ratio per size, as a table and a text chart."""

from __future__ import annotations

from rich.table import Table


def ratio_table(rows: list[dict]) -> Table:
    table = Table(title="Keras ÷ PyTorch throughput (above 1.00: Keras faster; sequential schedule)",
                  title_justify="left")
    runners = sorted({r["runner"] for r in rows})
    table.add_column("size")
    table.add_column("params", justify="right")
    for runner in runners:
        table.add_column(runner, justify="right")
    for size in dict.fromkeys(r["size"] for r in rows):
        cells = {r["runner"]: r for r in rows if r["size"] == size}
        params = next(iter(cells.values()))["params"]
        table.add_row(size, f"{params:,}" if params else "–", *(_cell(cells.get(n)) for n in runners))
    return table


def _cell(row: dict | None) -> str:
    """"1.37×", or with --repeats "1.37× (1.31–1.44)"."""
    if not row or not row["keras_over_torch"]:
        return "–"
    interval = f" ({row['low']:.2f}–{row['high']:.2f})" if row.get("low") else ""
    return f"{row['keras_over_torch']:.2f}×{interval}"


def ratio_chart(rows: list[dict], workload: str) -> str:
    """The ratio against parameter count, as text (plotext), with the 1.00 line where Keras equals PyTorch."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(90, 22)
    plt.theme("clear")
    plt.title(f"{workload}: Keras ÷ PyTorch throughput vs parameters")
    plt.xscale("log")
    for runner in sorted({r["runner"] for r in rows}):
        points = [(r["params"], r["keras_over_torch"]) for r in rows
                  if r["runner"] == runner and r["keras_over_torch"] and r["params"]]
        if points:
            plt.plot([p for p, _ in points], [v for _, v in points], label=runner, marker="dot")
    plt.hline(1.0)
    return plt.uncolorize(plt.build())
