#!/usr/bin/env python3
"""Rewrites the per-scenario results in docs/conformance.md from a run's --results file:
each `scenario` (result) token, each row's passing/FAILING status, the table of scenarios
and the summary counts.

    python3 conformance/run.py --c-driver ... --results /tmp/results.txt
    python3 conformance/update_doc.py /tmp/results.txt
"""
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "conformance.md"
WORDS = {"identical": "identical", "known": "known difference", "xfail": "FAILS", "FAIL": "FAILS",
         "UNEXPECTED": "identical"}


def main() -> int:
    results = {}
    for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines():
        if line.strip():
            name, status = line.split()[:2]
            results[name] = WORDS.get(status, status)
    text = DOC.read_text(encoding="utf-8")
    out, section = [], None
    counts = {"ported": [0, 0], "adapted": [0, 0]}
    for line in text.splitlines():
        head = re.match(r"### (Ported|Adapted|Not yet|Not applicable)", line)
        if head:
            section = head.group(1).lower()
        listed = re.match(r"\| `([a-z0-9_]+)` \| ([a-zA-Z ]+) \|", line)
        if listed and listed.group(1) in results:
            line = line.replace(f"| {listed.group(2)} |", f"| {results[listed.group(1)]} |", 1)
        elif section in counts and line.startswith("| ") and "`" in line:
            line = re.sub(r"`([a-z0-9_]+)` \(([^)]*)\)",
                          lambda m: f"`{m.group(1)}` ({results.get(m.group(1), m.group(2))})", line)
            cells = line.split(" | ")
            failing = "(FAILS)" in line
            cells[1] = "**FAILING**" if failing else "passing"
            line = " | ".join(cells)
            counts[section][1 if failing else 0] += 1
        out.append(line)
    text = "\n".join(out) + "\n"
    for kind, (ok, bad) in counts.items():
        text = re.sub(rf"\| {kind} \| (\d+) \| \d+ passing([^|]*), \d+ FAILING \|",
                      lambda m: f"| {kind} | {m.group(1)} | {ok} passing{m.group(2)}, {bad} FAILING |", text)
    n = {k: sum(1 for v in results.values() if v == k) for k in ("identical", "known difference", "FAILS")}
    text = re.sub(r"\*\*\d+ identical,\s*\d+ known differences, \d+ FAIL\*\*",
                  f"**{n['identical']} identical,\n{n['known difference']} known differences, {n['FAILS']} FAIL**", text)
    DOC.write_text(text, encoding="utf-8")
    print(f"ported {counts['ported']}, adapted {counts['adapted']}; scenarios {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
