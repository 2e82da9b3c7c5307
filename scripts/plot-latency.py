#!/usr/bin/env python3
"""Latency percentiles of ours vs the grpc-swift peer, as an SVG (no dependencies).

Reads the JSON lines written by scripts/bench-compare.sh (one per run, with "impl" = ours|peer),
takes the median of each percentile over the runs of every (workload, config, impl), and draws
one panel per (workload, config): p50, p90, p99, p99.9 and max on a logarithmic millisecond axis.

Usage: scripts/plot-latency.py RESULTS.jsonl [MORE.jsonl ...] -o docs/bench-latency.svg
         [--only book:8x64 --only find:1x1 ...]
"""
import argparse
import json
import math
import statistics

PERCENTILES = [("p50", "p50_ms"), ("p90", "p90_ms"), ("p99", "p99_ms"), ("p99.9", "p999_ms"), ("max", "max_ms")]
COLORS = {"ours": "#1f77b4", "peer": "#d62728"}
LABELS = {"ours": "appointmentd (protobuf-c frames)", "peer": "grpc-swift 2 peer (HTTP/2)"}


def load(paths):
    groups = {}
    for path in paths:
        for line in open(path):
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("impl") not in COLORS:
                continue
            groups.setdefault((r["workload"], r["config"]), {}).setdefault(r["impl"], []).append(r)
    return groups


def medians(runs):
    return [statistics.median(r[key] for r in runs) for _, key in PERCENTILES]


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def panel(out, x0, y0, width, height, title, series, lo, hi):
    """One panel: log10 y from lo to hi (ms), categorical x."""
    left, bottom, top = 48, 34, 26
    plot_w, plot_h = width - left - 12, height - bottom - top
    px = lambda i: x0 + left + plot_w * (i + 0.5) / len(PERCENTILES)
    py = lambda v: y0 + top + plot_h * (1 - (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))
    out.append(f'<text x="{x0 + left + plot_w / 2}" y="{y0 + 16}" text-anchor="middle" font-size="13" font-weight="bold">{escape(title)}</text>')
    out.append(f'<rect x="{x0 + left}" y="{y0 + top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    decade = math.floor(math.log10(lo))
    while 10 ** decade <= hi * 1.0001:
        for mantissa in (1, 2, 5):
            v = mantissa * 10 ** decade
            if lo <= v <= hi:
                y = py(v)
                out.append(f'<line x1="{x0 + left}" x2="{x0 + left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
                label = f"{v:g}"
                out.append(f'<text x="{x0 + left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{label}</text>')
        decade += 1
    for i, (name, _) in enumerate(PERCENTILES):
        out.append(f'<text x="{px(i):.1f}" y="{y0 + top + plot_h + 14}" text-anchor="middle" font-size="11">{name}</text>')
    out.append(f'<text x="{x0 + 12}" y="{y0 + top + plot_h / 2}" font-size="10" transform="rotate(-90 {x0 + 12} {y0 + top + plot_h / 2})" text-anchor="middle">ms (log)</text>')
    for impl, values in series.items():
        points = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{COLORS[impl]}" stroke-width="2"/>')
        for i, v in enumerate(values):
            out.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{COLORS[impl]}"><title>{impl} {PERCENTILES[i][0]}: {v:.3f} ms</title></circle>')
            if i in (0, 2):
                dy = -7 if impl == "peer" else 14
                out.append(f'<text x="{px(i) + 4:.1f}" y="{py(v) + dy:.1f}" font-size="9" fill="{COLORS[impl]}">{v:.3g}</text>')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+")
    parser.add_argument("-o", "--output", default="docs/bench-latency.svg")
    parser.add_argument("--only", action="append", default=[], metavar="WORKLOAD:CONFIG",
                        help="plot only these panels, e.g. book:8x64 (repeatable); default: all")
    parser.add_argument("--title", default="Latency percentiles: appointmentd vs the grpc-swift 2 peer")
    parser.add_argument("--subtitle", default="median of the runs of each side; same machine, same run of scripts/bench-compare.sh")
    args = parser.parse_args()
    groups = load(args.results)
    if args.only:
        wanted = {tuple(item.split(":", 1)) for item in args.only}
        groups = {key: value for key, value in groups.items() if key in wanted}
    keys = sorted(groups, key=lambda k: (k[0], -int(k[1].split("x")[0]) * int(k[1].split("x")[1])))
    if not keys:
        raise SystemExit("no ours/peer results in " + ", ".join(args.results))
    all_values = [v for k in keys for runs in groups[k].values() for v in medians(runs)]
    lo = 10 ** math.floor(math.log10(max(min(all_values), 0.001)))
    hi = 10 ** math.ceil(math.log10(max(all_values)))
    columns = min(3, len(keys))
    rows = math.ceil(len(keys) / columns)
    pw, ph = 330, 250
    width, height = max(pw * columns + 20, 620), ph * rows + 90
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(args.title)}</text>',
           f'<text x="{width / 2}" y="36" text-anchor="middle" font-size="11" fill="#555">{escape(args.subtitle)}</text>']
    for index, key in enumerate(keys):
        wl, cfg = key
        c, m = cfg.split("x")
        series = {impl: medians(runs) for impl, runs in sorted(groups[key].items())}
        panel(out, 10 + pw * (index % columns), 48 + ph * (index // columns), pw, ph,
              f"{wl}, {c} conn × {m} in flight", series, lo, hi)
    ly = height - 18
    lx = 20
    for impl in ("ours", "peer"):
        out.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{ly}" y2="{ly}" stroke="{COLORS[impl]}" stroke-width="3"/>')
        out.append(f'<text x="{lx + 30}" y="{ly + 4}" font-size="12">{escape(LABELS[impl])}</text>')
        lx += 300
    out.append("</svg>")
    with open(args.output, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {args.output} ({len(keys)} panels)")


if __name__ == "__main__":
    main()
