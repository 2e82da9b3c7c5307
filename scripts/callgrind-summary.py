#!/usr/bin/env python3
"""Sums up one Callgrind dump of appointmentd per call: scripts/bench-instructions.sh.

Usage: callgrind-summary.py [--calls-to REGEX] [--top N] [--callers REGEX] FILE...

FILEs are the per-thread files of one dump (valgrind --separate-threads=yes). Prints the
instructions executed per call, where the calls are the times functions whose (mangled) names
match REGEX were entered, counted by Callgrind in the same files; then each thread's share and
the functions with the most instructions of their own (self cost) per call, demangled with
`swift demangle` when it is on the PATH. With --callers, also who calls the functions whose
(mangled) names match REGEX, and the instructions those calls cost, callees included.
"""
import argparse
import collections
import re
import shutil
import subprocess
import sys

# What a booking runs exactly once: the shard's `bookSlot`, not its closures or thunks.
BOOK_SLOT = r"^\$s16AppointmentsCore13CalendarShardC8bookSlot.*F$"


class Dump:
    """One file of a dump: its instructions (Ir), its functions' self costs, and its call counts."""

    def __init__(self, path):
        self.path = path
        self.total = 0
        self.self_cost = collections.Counter()
        self.calls = collections.Counter()
        self.call_cost = collections.Counter()  # (caller, callee) → instructions, callees included
        names = {}  # the "(id)" of a compressed name → the name

        def name(text):
            match = re.match(r"\((\d+)\)(?: (.*))?$", text)
            if match is None:
                return text  # an uncompressed name
            if match.group(2) is not None:
                names[match.group(1)] = match.group(2)
            return names[match.group(1)]

        function = callee = None
        after_calls = False
        with open(path, errors="replace") as lines:
            for line in lines:
                first = line[:1]
                if first.isdigit() or first in "+-*":
                    cost = int(line.split()[-1])
                    if after_calls:
                        # A call's cost, already counted as its callee's own.
                        self.call_cost[(function, callee)] += cost
                        after_calls = False
                    else:
                        self.self_cost[function] += cost
                elif line.startswith("fn="):
                    function = name(line[3:].strip())
                elif line.startswith("cfn="):
                    callee = name(line[4:].strip())
                elif line.startswith("calls="):
                    self.calls[callee] += int(line[6:].split()[0])
                    after_calls = True
                elif line.startswith("totals:") or line.startswith("summary:"):
                    self.total = int(line.split()[1])

    def role(self):
        """What the thread is, from the code it ran."""
        names = " ".join(name for name, _ in self.self_cost.most_common(200))
        if "SnapshotStore" in names or "SnapshotFile" in names:
            return "snapshot writer"
        if "SelectableEventLoop" in names or "NIOPosix" in names:
            return "event loop"
        return "other"


def demangled(names):
    """The names demangled by `swift demangle --simplified`, or as they are without it."""
    if not names or shutil.which("swift") is None:
        return names
    result = subprocess.run(
        ["swift", "demangle", "--simplified", "--compact"],
        input="\n".join(names), capture_output=True, text=True, check=False)
    lines = result.stdout.splitlines()
    return lines if result.returncode == 0 and len(lines) == len(names) else names


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-to", default=BOOK_SLOT,
                        help="regular expression of the functions entered once per call "
                             "(default: CalendarShard.bookSlot)")
    parser.add_argument("--top", type=int, default=25, help="functions to list (default: 25)")
    parser.add_argument("--callers", metavar="REGEX",
                        help="also list the callers of the functions matching REGEX")
    parser.add_argument("files", nargs="+")
    arguments = parser.parse_args()

    dumps = [Dump(path) for path in arguments.files]
    pattern = re.compile(arguments.calls_to)
    calls = sum(count for dump in dumps for callee, count in dump.calls.items()
                if callee and pattern.search(callee))
    if calls == 0:
        sys.exit(f"no call of a function matching {arguments.calls_to!r} in the dump")
    total = sum(dump.total for dump in dumps)
    print(f"calls counted:  {calls:,} (functions matching {arguments.calls_to})")
    print(f"instructions:   {total:,} in all, {total / calls:,.0f} per call")
    print("by thread (instructions per call):")
    for dump in sorted(dumps, key=lambda dump: -dump.total):
        if dump.total:
            print(f"  {dump.total / calls:>10,.0f}  {100 * dump.total / total:5.1f} %  "
                  f"{dump.role():<15}  {dump.path}")

    functions = collections.Counter()
    for dump in dumps:
        functions.update(dump.self_cost)
    top = functions.most_common(arguments.top)
    print(f"the {len(top)} functions with the most instructions of their own (per call, share):")
    for (name, cost), readable in zip(top, demangled([name for name, _ in top])):
        print(f"  {cost / calls:>10,.1f}  {100 * cost / total:5.1f} %  {readable[:150]}")

    if arguments.callers:
        callee_pattern = re.compile(arguments.callers)
        edges = collections.Counter()
        for dump in dumps:
            edges.update({edge: cost for edge, cost in dump.call_cost.items()
                          if edge[1] and callee_pattern.search(edge[1])})
        top = edges.most_common(arguments.top)
        print(f"the {len(top)} costliest calls of functions matching {arguments.callers} "
              f"(per call, callees included):")
        names = demangled([name for edge, _ in top for name in edge])
        for index, (_, cost) in enumerate(top):
            caller, callee = names[2 * index], names[2 * index + 1]
            print(f"  {cost / calls:>10,.1f}  {caller[:100]}\n"
                  f"              → {callee[:100]}")


if __name__ == "__main__":
    main()
