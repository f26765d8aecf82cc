#!/usr/bin/env python3
"""Turns the figures `checks/bench.sh` wrote (echo.json, json.json from `faas-check bench
--json`) into the README's comparison table, the jemalloc trade-off, the issue-11 targets
with their measured ratios, and an SVG bar chart of the table. Only arithmetic on measured
figures: nothing here is typed by hand but the targets themselves.

    bench_report.py ECHO.json JSON.json SVG-OUT [--bootstrap-bytes N] [--image-bytes N]

Prints markdown on stdout and writes the chart to SVG-OUT.
"""
import json
import sys
from html import escape

OURS, OURS_SYSTEM, OURS_O3 = "ours", "ours, jemalloc off", "ours, opt-level 3"
LR_MUSL, LR_GLIBC, FLOOR = "lambda_runtime, musl", "lambda_runtime, glibc", "C floor"
COLUMNS = [OURS, OURS_SYSTEM, OURS_O3, LR_MUSL, LR_GLIBC, FLOOR]
COLORS = {OURS: "#1f6feb", OURS_SYSTEM: "#79b8ff", OURS_O3: "#0b3d91", LR_MUSL: "#d97706", LR_GLIBC: "#f4b860", FLOOR: "#6b7280"}
MIB = 1024 * 1024


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return doc, {fn["name"]: fn for fn in doc["functions"]}


def grouped(n):
    return f"{round(n):,}"


def main():
    args = sys.argv[1:]
    opts = {}
    for name in ("--bootstrap-bytes", "--image-bytes"):
        if name in args:
            at = args.index(name)
            opts[name] = int(args[at + 1])
            del args[at:at + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    echo_doc, echo = load(args[0])
    json_doc, orders = load(args[1])
    columns = [c for c in COLUMNS if c in echo or c in orders]

    # (label, unit formatter, figure per column or None)
    rows = [
        ("init median (spawn to first GET /next)", lambda v: f"{v:.2f} ms",
         {c: echo[c]["init_ms"] for c in columns if c in echo}),
        ("init CPU median (the process's, by then)", lambda v: f"{v:.0f} us",
         {c: echo[c]["init_cpu_us"] for c in columns if c in echo}),
        ("echo: CPU per invocation", lambda v: f"{v:.1f} us",
         {c: echo[c]["cpu_us_per_invocation"] for c in columns if c in echo}),
        (f"orders (~{json_doc['event_bytes'] // 1024} KB JSON): CPU per invocation", lambda v: f"{v / 1000:.2f} ms",
         {c: orders[c]["cpu_us_per_invocation"] for c in columns if c in orders}),
        (f"echo: peak RSS after {grouped(echo_doc['invocations'])} invocations", lambda v: f"{grouped(v)} KiB",
         {c: echo[c]["peak_rss_kib"] for c in columns if c in echo}),
        ("orders: peak RSS", lambda v: f"{grouped(v)} KiB",
         {c: orders[c]["peak_rss_kib"] for c in columns if c in orders}),
        ("binary (echo)", lambda v: f"{grouped(v)} B", {c: echo[c]["binary_bytes"] for c in columns if c in echo}),
        ("binary (orders)", lambda v: f"{grouped(v)} B", {c: orders[c]["binary_bytes"] for c in columns if c in orders}),
    ]

    out = []
    out.append("| | " + " | ".join(columns) + " |")
    out.append("|---|" + "---:|" * len(columns))
    for label, fmt, values in rows:
        cells = [fmt(values[c]) if values.get(c) is not None else "-" for c in columns]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")

    # The jemalloc trade-off, both sides from this run.
    on, off = echo[OURS], echo[OURS_SYSTEM]
    j_on, j_off = orders[OURS], orders[OURS_SYSTEM]
    out.append(
        f"**jemalloc, as measured**: it costs {on['init_ms'] - off['init_ms']:+.2f} ms of init "
        f"({on['init_cpu_us'] - off['init_cpu_us']:+.0f} us of init CPU), "
        f"{grouped(on['peak_rss_kib'] - off['peak_rss_kib'])} KiB of peak RSS (echo) and "
        f"{grouped(on['binary_bytes'] - off['binary_bytes'])} B of binary; it changes echo CPU per invocation by "
        f"{on['cpu_us_per_invocation'] - off['cpu_us_per_invocation']:+.1f} us "
        f"({on['cpu_us_per_invocation'] / off['cpu_us_per_invocation']:.2f}x) and the orders workload's by "
        f"{(j_on['cpu_us_per_invocation'] - j_off['cpu_us_per_invocation']) / 1000:+.2f} ms "
        f"({j_on['cpu_us_per_invocation'] / j_off['cpu_us_per_invocation']:.2f}x), "
        f"for {grouped(j_on['peak_rss_kib'] - j_off['peak_rss_kib'])} KiB more RSS there.")
    out.append("")

    # The targets of issue 11, each as a measured ratio.
    def ratio(a, b):
        return a / b

    early, peak = on.get("early_rss_kib"), on["peak_rss_kib"]
    # Init is judged on the process's CPU by its first GET /next: the wall-clock median of a
    # start on this shared 2-core machine is mostly scheduling (in one run the C floor's was
    # twice ours), so it is shown but not judged.
    targets = [
        ("init <= 1.0x lambda_runtime's (musl), jemalloc on: init CPU",
         ratio(on["init_cpu_us"], echo[LR_MUSL]["init_cpu_us"]), 1.0),
        ("echo CPU per invocation <= 0.6x lambda_runtime's (musl)",
         ratio(on["cpu_us_per_invocation"], echo[LR_MUSL]["cpu_us_per_invocation"]), 0.6),
        ("orders CPU per invocation <= 0.6x lambda_runtime's, musl",
         ratio(j_on["cpu_us_per_invocation"], orders[LR_MUSL]["cpu_us_per_invocation"]), 0.6),
        ("orders CPU per invocation <= 0.6x lambda_runtime's, glibc (cargo-lambda's default)",
         ratio(j_on["cpu_us_per_invocation"], orders[LR_GLIBC]["cpu_us_per_invocation"]), 0.6),
    ]
    if OURS_O3 in orders:
        targets.append(("(the same, ours built at opt-level 3 like that glibc build)",
                        ratio(orders[OURS_O3]["cpu_us_per_invocation"],
                              orders[LR_GLIBC]["cpu_us_per_invocation"]), 0.6))
    out.append("| target (issue 11) | measured | met |")
    out.append("|---|---:|:---:|")
    for label, value, limit in targets:
        out.append(f"| {label} | {value:.2f}x | {'yes' if value <= limit else 'no'} |")
        if label.startswith("init"):
            wall = ratio(on["init_ms"], echo[LR_MUSL]["init_ms"])
            out.append(f"| (the same, wall clock: noisy here, not judged) | {wall:.2f}x | - |")
    rss_ok = peak <= 1024 and (early is None or peak <= early)
    out.append(f"| peak RSS <= 1 MiB and flat (echo, {grouped(max(echo_doc['invocations'] // 10, 1))} → "
               f"{grouped(echo_doc['invocations'])} invocations) | "
               f"{grouped(early) if early is not None else '?'} → {grouped(peak)} KiB | {'yes' if rss_ok else 'no'} |")
    if "--bootstrap-bytes" in opts:
        b = opts["--bootstrap-bytes"]
        out.append(f"| `bootstrap` <= 1 MiB with jemalloc and local mode | {grouped(b)} B ({b / MIB:.2f} MiB) | "
                   f"{'yes' if b <= MIB else 'no'} |")
    if "--image-bytes" in opts:
        i = opts["--image-bytes"]
        out.append(f"| scratch image <= 512 KiB compressed | {grouped(i)} B ({i / 1024:.0f} KiB) | "
                   f"{'yes' if i <= 512 * 1024 else 'no'} |")
    print("\n".join(out))

    write_svg(args[2], columns, rows)


def write_svg(path, columns, rows):
    """Horizontal bars, one group per row of the table, each bar relative to lambda_runtime
    (musl) = 1.0; bars past 3.0x are cut and marked."""
    cap, scale, left, bar, gap = 3.0, 170, 330, 14, 3
    width = left + cap * scale + 150
    y = 58
    body = []
    for label, fmt, values in rows:
        base = values.get(LR_MUSL)
        present = [c for c in columns if values.get(c) is not None]
        body.append(f'<text x="8" y="{y + 12}" class="row">{escape(label)}</text>')
        for c in present:
            r = values[c] / base if base else 0
            w = min(r, cap) * scale
            body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{COLORS[c]}"/>')
            cut = " ▶" if r > cap else ""
            body.append(f'<text x="{left + w + 4:.1f}" y="{y + 11}" class="v">{escape(fmt(values[c]))} '
                        f'({r:.2f}x){cut}</text>')
            y += bar + gap
        y += 14
    height = y + 10
    ticks = []
    for t in (0.5, 1.0, 2.0, 3.0):
        x = left + t * scale
        dash = "" if t == 1.0 else ' stroke-dasharray="3,3"'
        ticks.append(f'<line x1="{x}" y1="46" x2="{x}" y2="{height - 8}" stroke="#999"{dash}/>'
                     f'<text x="{x}" y="42" class="t" text-anchor="middle">{t:g}x</text>')
    legend, lx = [], 8
    for c in columns:
        legend.append(f'<rect x="{lx}" y="8" width="12" height="12" fill="{COLORS[c]}"/>'
                      f'<text x="{lx + 16}" y="18" class="l">{escape(c)}</text>')
        lx += 22 + 7 * len(c)
    svg = f'''<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" viewBox="0 0 {width:.0f} {height}">
<style>text{{font-family:sans-serif;fill:#222}} .row{{font-size:12px}} .v{{font-size:10px}} .t{{font-size:10px;fill:#666}} .l{{font-size:11px}}</style>
<rect width="100%" height="100%" fill="#fff"/>
{"".join(legend)}
<text x="8" y="42" class="t">bars: relative to lambda_runtime, musl (= 1x); less is better</text>
{"".join(ticks)}
{"".join(body)}
</svg>
'''
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
