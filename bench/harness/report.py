"""Tables: medians per server, spread, and ratios of the first server to each other."""

from .modes import METRICS, median


def medians(mode, rows):
    """{server: {metric: median}} over the rounds."""
    return {s: {m.key: median([r[m.key] for r in runs]) for m in METRICS[mode]} for s, runs in rows.items() if runs}


def table(mode, servers, rows, negotiated):
    """Prints the mode's table; returns the medians."""
    metrics = METRICS[mode]
    med = medians(mode, rows)
    present = [s for s in servers if s in med]
    n = max((len(rows[s]) for s in present), default=0)
    print(f"\n  medians over {n} round(s); negotiated: {', '.join(sorted(set(negotiated.values()))) or '?'}")
    if len(set(negotiated.values())) > 1:
        print(f"  WARNING: servers negotiated different parameters: {negotiated}")
    if not present:
        print("  (no successful run)")
        return med
    widths = [max(len(m.label), 10) for m in metrics]
    first_col = max([len(s) for s in present] + [len(f"{present[0]} ÷ {s}") for s in present[1:]] + [6])
    print("  " + "".ljust(first_col) + "".join(f"  {m.label:>{w}}" for m, w in zip(metrics, widths))
          + "  spread")
    for s in present:
        cells = "".join(f"  {med[s][m.key]:>{w}.{m.digits}f}" for m, w in zip(metrics, widths))
        main = [r[metrics[0].key] for r in rows[s]]
        spread = (max(main) - min(main)) / med[s][metrics[0].key] * 100 if med[s][metrics[0].key] else 0
        print(f"  {s.ljust(first_col)}{cells}  {spread:5.1f}%")
    for other in present[1:]:
        cells = ""
        for m, w in zip(metrics, widths):
            a, b = med[present[0]][m.key], med[other][m.key]
            cells += f"  {(f'{a / b:.2f}x' if m.ratio and b else ''):>{w}}"
        print(f"  {f'{present[0]} ÷ {other}'.ljust(first_col)}{cells}")
    for s in present:
        if mode == "handshake" and 0 < med[s]["resumed_pct"] < 99.5:
            print(f"  note: {s} resumed {med[s]['resumed_pct']:.0f}% of handshakes; its figure mixes full and "
                  "resumed ones (bench/README.md)")
    return med


def floors(cases, ceilings):
    """Each case's main cost next to what `openssl speed` says it cannot go below."""
    from .ceilings import floor

    lines = []
    for mode, o, med in cases:
        f = floor(mode, o, ceilings)
        if not f or not med:
            continue
        what, value, unit = f
        key = METRICS[mode][0].key
        times = ", ".join(f"{s} {v[key]:.3g} ({v[key] / value:.1f}×)" for s, v in med.items())
        lines.append(f"  {mode}{' resumed' if mode == 'handshake' and o.resume else ''}: floor {what} = "
                     f"{value:.3g} {unit}; measured {times}")
    if lines:
        print("\nmeasured cost ÷ physical floor:")
        print("\n".join(lines))
