"""Shared plotting for bench/ scripts: one PNG of small panels sharing an x axis.

Kept apart from the measuring scripts so every benchmark figure looks the same
and matplotlib is only needed when a figure is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

Series = Mapping[str, Sequence[float | None]]


def panels(
    path: Path,
    x: Sequence[float],
    xlabel: str,
    charts: Sequence[tuple[str, Series]],
    title: str,
) -> Path:
    """Draw `charts` ((y label, {legend: values})) side by side and save a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(charts), figsize=(4.2 * len(charts), 3.4), squeeze=False)
    for ax, (ylabel, series) in zip(axes[0], charts, strict=True):
        for label, values in series.items():
            points = [(a, b) for a, b in zip(x, values, strict=True) if b is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def replace_section(path: Path, heading: str, body: str, title: str = "# Benchmarks") -> None:
    """Put `heading` + `body` in a Markdown file, replacing only that `## ` section."""
    text = path.read_text() if path.exists() else f"{title}\n"
    lines = text.splitlines()
    section = [heading, "", *body.strip("\n").splitlines(), ""]
    if heading in lines:
        start = lines.index(heading)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        lines[start:end] = section
    else:
        if lines and lines[-1].strip():
            lines.append("")
        lines += section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
