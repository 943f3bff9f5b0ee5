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


def scaling_table(rows: list[dict]) -> Table:
    """Per device count and runner: throughput, per device, and scaling efficiency against one device."""
    table = Table(title="Scaling: throughput · per device · efficiency against the runner on one device "
                  "(global batch fixed; sequential schedule)", title_justify="left")
    runners = list(dict.fromkeys(r["runner"] for r in rows))
    table.add_column("devices", justify="right")
    for runner in runners:
        table.add_column(runner, justify="right")
    for count in dict.fromkeys(r["devices"] for r in rows):
        cells = {r["runner"]: r for r in rows if r["devices"] == count}
        table.add_row(str(count), *(_scaling_cell(cells.get(n)) for n in runners))
    return table


def _scaling_cell(row: dict | None) -> str:
    if not row:
        return "–"
    efficiency = f" · {row['efficiency']:.0%}" if row["efficiency"] is not None else ""
    return f"{row['throughput']:,.0f} · {row['per_device']:,.0f}/dev{efficiency}"


def scaling_chart(rows: list[dict], workload: str) -> str:
    """Scaling efficiency against device count, one line per runner, with the 100 % line of perfect scaling."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(90, 20)
    plt.theme("clear")
    plt.title(f"{workload}: scaling efficiency vs devices (1.0 = perfect)")
    for runner in dict.fromkeys(r["runner"] for r in rows):
        points = [(r["devices"], r["efficiency"]) for r in rows if r["runner"] == runner and r["efficiency"]]
        if points:
            plt.plot([d for d, _ in points], [e for _, e in points], label=runner, marker="dot")
    plt.hline(1.0)
    return plt.uncolorize(plt.build())
