#!/usr/bin/env python3
"""Differential runner: every scenario of scenarios.txt on Node's tls (node/driver.js) and on
nodetls (c/driver.c), traces compared side by side.

A trace line is "<side> <event>"; each side's lines are compared in order, separately (the
order between client and server is not something Node fixes). A line "<side> <name>.json {..}"
is a JSON object (a certificate): it is compared key by key, as "<side> <name>.<path> <value>".

A difference is
  known: <README row>  when expected-differences.txt lists it with the row of the README's
                       "Where rustls differs from OpenSSL" table that explains it;
  xfail                when failing.txt lists the scenario (a bug of today, with one line why);
  FAIL                 otherwise.
A scenario of failing.txt that no longer fails, and an entry of expected-differences.txt that
no longer differs, fail the run too: both lists only shrink.

usage: run.py --c-driver PATH [--node node] [--certs DIR] [-j N] [--show] [scenario ...]
Python 3 standard library only.
"""
import argparse
import concurrent.futures
import difflib
import json
import os
import re
import subprocess
import sys
import time

MAX_SHOWN = 8  # lines of one side of a hunk shown
SKIPPED = 77  # exit status when the installed Node is not the oracle's version
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def scenario_names(spec_file):
    names = []
    with open(spec_file, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\[(.+)\]\s*$", line.strip())
            if m and m.group(1) != "defaults":
                names.append(m.group(1))
    return names


def readme_rows():
    """First cells of the README's table of differences with OpenSSL."""
    rows = set()
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Where rustls differs from OpenSSL.*?$(.*?)(?=^## )", text, re.M | re.S)
    if not m:
        sys.exit("run.py: README.md has no 'Where rustls differs from OpenSSL' section")
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: "):
            rows.add(cells[0])
    rows.discard("Node")
    return rows


def split_table(path, ncols):
    """Lines "a | b | c" of a list file (comments and blank lines skipped)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.split(" | ")]
            if len(cells) != ncols:
                sys.exit(f"run.py: {path}:{n}: expected {ncols} cells separated by ' | '")
            out.append((n, cells))
    return out


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for k in sorted(value):
            flatten(f"{prefix}.{k}", value[k], out)
    elif isinstance(value, list):
        out.append(f"{prefix} " + json.dumps(value, ensure_ascii=False))
    else:
        out.append(f"{prefix} " + json.dumps(value, ensure_ascii=False))


def normalize(text):
    """Trace text -> {side: [events]} in order of appearance."""
    sides = {}
    for line in text.splitlines():
        if not line:
            continue
        side, _, event = line.partition(" ")
        m = re.match(r"^(\S+)\.json (.*)$", event)
        events = []
        if m:
            try:
                flatten(m.group(1), json.loads(m.group(2)), events)
            except ValueError:
                events.append(event)
        else:
            events.append(event)
        sides.setdefault(side, []).extend(events)
    return sides


def run_driver(cmd, timeout):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        out, err, rc = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        rc = "timeout"
    if rc != 0:
        out += f"driver exit {rc}\n"
    return out, err, time.monotonic() - t0


def compare(node, ours):
    """[(side, node_only_lines, ours_only_lines)] of the hunks where the traces differ."""
    diffs = []
    order = list(node) + [s for s in ours if s not in node]
    for side in order:
        a, b = node.get(side, []), ours.get(side, [])
        sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag != "equal":
                diffs.append((side, a[i1:i2], b[j1:j2]))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--c-driver", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--certs", default=os.path.join(ROOT, "target", "test-certs"))
    ap.add_argument("--spec", default=os.path.join(HERE, "scenarios.txt"))
    ap.add_argument("--expected", default=os.path.join(HERE, "expected-differences.txt"))
    ap.add_argument("--failing", default=os.path.join(HERE, "failing.txt"))
    ap.add_argument("-j", "--jobs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--show", action="store_true", help="print both traces of every scenario run")
    ap.add_argument("--results", help="write one line per scenario (name, status) to this file")
    ap.add_argument("--any-node", action="store_true", help="run with a Node other than 20")
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()

    started = time.monotonic()
    # The traces of expected-differences.txt and failing.txt are Node 20's: another major
    # version answers differently in places, so the run is skipped (CTest's SKIP_RETURN_CODE).
    try:
        version = subprocess.run([args.node, "--version"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"run.py: cannot run {args.node}: {e}")
    if not version.startswith("v20.") and not args.any_node:
        print(f"run.py: the oracle is Node 20, {args.node} is {version}: skipped (--any-node runs it anyway)")
        return SKIPPED
    print(f"oracle: node {version}")
    if not os.path.exists(os.path.join(args.certs, ".complete")):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "gen-certs.sh"), args.certs], check=True)

    names = scenario_names(args.spec)
    for s in args.scenarios:
        if s not in names:
            sys.exit(f"run.py: no scenario {s}")
    todo = args.scenarios or names

    rows = readme_rows()
    expected = {}
    problems = []
    for n, (scen, node_line, our_line, row) in split_table(args.expected, 4):
        if scen not in names:
            problems.append(f"expected-differences.txt:{n}: no scenario {scen}")
        if row not in rows:
            problems.append(f"expected-differences.txt:{n}: '{row}' is not a row of the README's table of differences")
        expected.setdefault(scen, []).append([n, node_line, our_line, row, False])
    failing = {}
    for n, (scen, why) in split_table(args.failing, 2):
        if scen not in names:
            problems.append(f"failing.txt:{n}: no scenario {scen}")
        failing[scen] = why

    def one(name):
        node = run_driver([args.node, os.path.join(HERE, "node", "driver.js"), name, args.certs, args.spec], args.timeout)
        ours = run_driver([args.c_driver, name, args.certs, args.spec], args.timeout)
        return name, node, ours

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, node, ours in pool.map(one, todo):
            results[name] = (node, ours)

    counts = {"identical": 0, "known": 0, "xfail": 0, "FAIL": 0, "UNEXPECTED PASS": 0}
    lines = []
    failed = 0
    for name in todo:
        (node_out, node_err, node_t), (our_out, our_err, our_t) = results[name]
        diffs = compare(normalize(node_out), normalize(our_out))
        known_rows = []
        unexplained = []
        for side, a, b in diffs:
            a, b = list(a), list(b)
            for entry in expected.get(name, []):
                _, nl, ol, row, _ = entry
                # Each line names its side: "client error X"; "-": no line on that side.
                ns, _, nev = nl.partition(" ")
                os_, _, oev = ol.partition(" ")
                nl_ok = nl == "-" or (ns == side and nev in a)
                ol_ok = ol == "-" or (os_ == side and oev in b)
                if nl_ok and ol_ok and (nl != "-" or ol != "-"):
                    if nl != "-":
                        a.remove(nev)
                    if ol != "-":
                        b.remove(oev)
                    entry[4] = True
                    if row not in known_rows:
                        known_rows.append(row)
            if a or b:
                unexplained.append((side, a, b))
        stale = [e for e in expected.get(name, []) if not e[4]]
        if unexplained or stale:
            status = "xfail" if name in failing and not stale else "FAIL"
        elif name in failing:
            status = "UNEXPECTED PASS"
        else:
            status = "known" if known_rows else "identical"
        counts[status] += 1
        shown = {"known": "known: " + "; ".join(known_rows), "xfail": f"xfail ({failing.get(name, '')})",
                 "UNEXPECTED PASS": "UNEXPECTED PASS: remove it from failing.txt"}.get(status, status)
        print(f"{name:42} {shown}")
        lines.append(f"{name} {status}{(' ' + '; '.join(known_rows)) if known_rows else ''}")
        if status in ("FAIL", "UNEXPECTED PASS"):
            failed += 1
        if status in ("FAIL", "xfail") or args.show:
            for side, a, b in unexplained:
                print(f"    {side}:")
                for label, xs in (("node:   ", a), ("nodetls:", b)):
                    for x in xs[:MAX_SHOWN]:
                        print(f"      {label} {side} {x[:400]}")
                    if len(xs) > MAX_SHOWN:
                        print(f"      {label} ... {len(xs) - MAX_SHOWN} more lines")
            for e in stale:
                print(f"    expected-differences.txt:{e[0]} no longer differs: remove it ({e[1]} | {e[2]})")
        if args.show or status == "FAIL":
            for label, out, err, t in (("node", node_out, node_err, node_t), ("nodetls", our_out, our_err, our_t)):
                print(f"    --- {label} trace ({t:.2f}s)")
                for x in out.splitlines():
                    print(f"      {x[:300]}")
                if err.strip() and args.show:
                    print(f"    --- {label} stderr")
                    for x in err.strip().splitlines()[:20]:
                        print(f"      {x[:300]}")

    for p in problems:
        print(p)
        failed += 1
    if args.results:
        with open(args.results, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    passed = counts["identical"] + counts["known"] + counts["xfail"]
    print(f"\n{counts['identical']} identical, {counts['known']} known differences, {counts['xfail']} xfail, "
          f"{counts['FAIL']} FAIL, {counts['UNEXPECTED PASS']} unexpected pass "
          f"({time.monotonic() - started:.1f}s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
