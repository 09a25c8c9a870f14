#!/usr/bin/env python3
"""Helper of benches/compare.sh: records one timed run, prints it, and summarises all runs.

  parse_run.py record --tool T --mode M --latency L --run R --rc RC --time F --log F
                      --report F --counts JSON          -> one JSON line on stdout
  parse_run.py line JSON                                 -> one human line
  parse_run.py summary --results F --first-latency L --with-npm 0|1

Counts are per installed location (npm counts locations; ours lists each package's `paths`):
sig = verified registry signatures, att = verified attestations, invalid, missing.
"""
import json
import re
import statistics
import sys


def arg(name, argv):
    i = argv.index(name)
    return argv[i + 1]


def parse_time(path):
    out = {}
    try:
        text = open(path).read()
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            v = line.rsplit(": ", 1)[1]
            parts = [float(p) for p in v.split(":")]
            secs = 0.0
            for p in parts:
                secs = secs * 60 + p
            out["wall"] = secs
        elif line.startswith("User time (seconds):"):
            out["user"] = float(line.split(":")[1])
        elif line.startswith("System time (seconds):"):
            out["sys"] = float(line.split(":")[1])
        elif line.startswith("Maximum resident set size (kbytes):"):
            out["rss_mb"] = int(line.split(":")[1]) / 1024.0
    if "user" in out and "sys" in out:
        out["cpu"] = out["user"] + out["sys"]
    return out


def npm_counts(log):
    try:
        text = open(log).read()
    except OSError:
        return None
    def grab(pattern):
        m = re.search(pattern, text)
        return int(m.group(1)) if m else 0
    audited = re.search(r"audited (\d+) packages?", text)
    if not audited:
        return None
    return {
        "audited": int(audited.group(1)),
        "sig": grab(r"(\d+) packages? (?:have|has) (?:a )?verified registry signatures?"),
        "att": grab(r"(\d+) packages? (?:have|has) (?:a )?verified attestations?"),
        "missing": grab(r"(\d+) packages? (?:have|has) (?:a )?missing registry signatures?"),
        "invalid": grab(r"(\d+) packages? (?:have|has) (?:an )?invalid registry signatures?")
        + grab(r"(\d+) packages? (?:have|has) (?:an )?invalid attestations?"),
    }


def ours_counts(report):
    try:
        doc = json.load(open(report))
    except (OSError, ValueError):
        return None
    c = {"sig": 0, "att": 0, "missing": 0, "invalid": 0, "packages": 0}
    for p in doc.get("packages", []):
        rs = (p.get("registry_signature") or {}).get("status")
        if rs is None or rs == "not-applicable":
            continue
        n = len(p.get("paths") or [None])
        c["packages"] += 1
        pub = (p.get("publish_attestation") or {}).get("status")
        prov = (p.get("provenance") or {}).get("status")
        if rs == "verified":
            c["sig"] += n
        if rs == "missing":
            c["missing"] += n
        if pub == "verified" and prov in ("verified", "missing", "not-applicable", None):
            c["att"] += n
        if "invalid" in (rs, pub, prov):
            c["invalid"] += n
    c["audited"] = sum(
        len(p.get("paths") or [None])
        for p in doc.get("packages", [])
        if (p.get("registry_signature") or {}).get("status") not in (None, "not-applicable")
    )
    c["summary"] = doc.get("summary")
    return c


def record(argv):
    tool = arg("--tool", argv)
    rec = {
        "tool": tool,
        "mode": arg("--mode", argv),
        "latency": int(arg("--latency", argv)),
        "run": int(arg("--run", argv)),
        "rc": int(arg("--rc", argv)),
    }
    rec.update(parse_time(arg("--time", argv)))
    if tool == "npm":
        rec["counts"] = npm_counts(arg("--log", argv))
    else:
        rec["counts"] = ours_counts(arg("--report", argv))
    try:
        rec["requests"] = json.loads(arg("--counts", argv))
    except ValueError:
        rec["requests"] = None
    print(json.dumps(rec))


def req_total(rec):
    r = rec.get("requests") or {}
    reg = (r.get("registry") or {}).get("total", 0)
    tuf = (r.get("tuf") or {}).get("total", 0) if r.get("tuf") else 0
    return reg + tuf


def req_detail(rec):
    r = rec.get("requests") or {}
    by = (r.get("registry") or {}).get("by", {})
    parts = [f"{k} {v}" for k, v in sorted(by.items())]
    tuf = r.get("tuf")
    if tuf and tuf.get("total"):
        parts.append(f"tuf {tuf['total']}")
    return ", ".join(parts)


def counts_key(c):
    if not c:
        return None
    return (c.get("sig"), c.get("att"), c.get("invalid"), c.get("missing"))


def line(argv):
    rec = json.loads(argv[0])
    c = rec.get("counts") or {}
    print(
        f"  {rec['tool']:9} {rec['mode']:4} {rec['latency']:3} ms run {rec['run']}: "
        f"wall {rec.get('wall', float('nan')):7.2f} s, cpu {rec.get('cpu', float('nan')):7.2f} s, "
        f"rss {rec.get('rss_mb', float('nan')):7.1f} MB, requests {req_total(rec)} "
        f"[{req_detail(rec)}]; exit {rec['rc']}; sig {c.get('sig')} att {c.get('att')} "
        f"invalid {c.get('invalid')} missing {c.get('missing')}"
    )


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit="", digits=2):
    return "n/a" if x is None else f"{x:.{digits}f}{unit}"


def summary(argv):
    recs = [json.loads(l) for l in open(arg("--results", argv)) if l.strip()]
    first = int(arg("--first-latency", argv))
    with_npm = arg("--with-npm", argv) == "1"
    # Agreement per (latency, run, mode): npm and ours --no-history.
    agree = {}
    for r in recs:
        if r["tool"] != "npm":
            continue
        o = [x for x in recs if x["tool"] == "ours" and x["latency"] == r["latency"]
             and x["run"] == r["run"] and x["mode"] == r["mode"]]
        if o:
            agree[(r["latency"], r["run"], r["mode"])] = counts_key(r["counts"]) == counts_key(o[0]["counts"]) and counts_key(r["counts"]) is not None
    print()
    print("| tool | mode | latency | runs | wall s (median) | CPU s user+sys (median) | peak RSS MB (median) | requests (median) | counts (sig/att/invalid/missing) |")
    print("|---|---|---|---|---|---|---|---|---|")
    groups = {}
    for r in recs:
        groups.setdefault((r["latency"], r["tool"], r["mode"]), []).append(r)
    for (lat, tool, mode), rs in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1], kv[0][2])):
        ok = rs
        if tool in ("npm", "ours") and with_npm:
            ok = [r for r in rs if agree.get((lat, r["run"], mode))]
        label = {"ours": "npm-provenance --no-history", "ours-full": "npm-provenance (history)", "npm": "npm audit signatures"}[tool]
        c = rs[0].get("counts") or {}
        print(
            f"| {label} | {mode} | {lat} ms | {len(ok)}/{len(rs)} | {fmt(med([r.get('wall') for r in ok]))} | "
            f"{fmt(med([r.get('cpu') for r in ok]))} | {fmt(med([r.get('rss_mb') for r in ok]), '', 0)} | "
            f"{fmt(med([req_total(r) for r in ok]), '', 0)} | {c.get('sig')}/{c.get('att')}/{c.get('invalid')}/{c.get('missing')} |"
        )
    print()
    for r in recs:
        if r["tool"] == "npm":
            o = [x for x in recs if x["tool"] == "ours" and x["latency"] == r["latency"]
                 and x["run"] == r["run"] and x["mode"] == r["mode"]]
            if o and not agree.get((r["latency"], r["run"], r["mode"])):
                print(f"counts DISAGREE ({r['mode']}, {r['latency']} ms, run {r['run']}): "
                      f"npm {r['counts']} vs ours { {k: v for k, v in (o[0]['counts'] or {}).items() if k != 'summary'} }: "
                      "these times are not counted")
    ours_first = [r for r in recs if r["tool"] == "ours" and r["latency"] == first]
    n = (ours_first[0].get("counts") or {}).get("packages") if ours_first else None

    def ratio(mode):
        if not with_npm:
            return None
        npm_w = med([r.get("wall") for r in recs if r["tool"] == "npm" and r["latency"] == first
                     and r["mode"] == mode and agree.get((first, r["run"], mode))])
        ours_w = med([r.get("wall") for r in recs if r["tool"] == "ours" and r["latency"] == first
                      and r["mode"] == mode and agree.get((first, r["run"], mode))])
        if npm_w is None or not ours_w:
            return None
        return npm_w / ours_w

    def rtxt(x):
        return "n/a" if x is None else f"{x:.1f}x"

    print(f"npm/ours wall ratio: {rtxt(ratio('cold'))} cold, {rtxt(ratio('warm'))} warm "
          f"({n} packages, {first} ms latency)")


def main():
    cmd, argv = sys.argv[1], sys.argv[2:]
    {"record": record, "line": line, "summary": summary}[cmd](argv)


if __name__ == "__main__":
    main()
