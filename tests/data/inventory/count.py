#!/usr/bin/env python3
"""Independent counter for npm package-lock.json files (lockfileVersion 2 and 3).

Written apart from the Rust parser, with its own rules, so the acceptance tests in
tests/it/inventory.rs do not derive their expectations from the code under test.

Usage: python3 tests/data/inventory/count.py LOCKFILE   -> prints one JSON object:
  entries            every `packages` key except the root ""
  links              entries with "link": true
  folders            entries outside any node_modules (workspaces, link targets)
  bundled            inBundle entries shipped inside a *dependency's* tarball: some installed
                     ancestor (not the root, not a folder) declares bundleDependencies
  git / tarball_url / file   installed entries by the scheme of "resolved"
  registry_locations installed, not linked, not bundled entries whose "resolved" is absent or
                     a registry tarball URL (".../-/...tgz")
  registry_no_integrity, registry_sha1_only   among those
  registry_packages  distinct (name, version, integrity) among those (name = "name" field when
                     present, else the folder name after the last node_modules/)
  registry_name_versions  distinct (name, version)
  registry_set       sorted "name@version integrity" strings (the exact package list)
"""
import json
import sys


def tail_name(loc):
    return loc.split("node_modules/")[-1]


def main(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    pkgs = doc["packages"]
    out = dict(entries=0, links=0, folders=0, bundled=0, git=0, tarball_url=0, file=0,
               registry_locations=0, registry_no_integrity=0, registry_sha1_only=0)
    reg = set()
    for loc, e in pkgs.items():
        if loc == "":
            continue
        out["entries"] += 1
        if e.get("link"):
            out["links"] += 1
            continue
        if "node_modules" not in loc.split("/"):
            out["folders"] += 1
            continue
        if e.get("inBundle"):
            # ancestors: every prefix of loc ending just before a "/node_modules/"
            parts = loc.split("/node_modules/")
            ancestors = ["/node_modules/".join(parts[:i]) for i in range(1, len(parts))]
            if any(a.startswith("node_modules/") and (pkgs.get(a, {}).get("bundleDependencies")
                   or pkgs.get(a, {}).get("bundledDependencies")) for a in ancestors):
                out["bundled"] += 1
                continue
        r = e.get("resolved") or ""
        if r.startswith(("git+", "git:", "github:", "git@")):
            out["git"] += 1
            continue
        if r.startswith("file:"):
            out["file"] += 1
            continue
        if r and not ("/-/" in r and r.endswith(".tgz")):
            out["tarball_url"] += 1
            continue
        out["registry_locations"] += 1
        integ = e.get("integrity")
        if not integ:
            out["registry_no_integrity"] += 1
        elif all(tok.startswith("sha1-") for tok in integ.split()):
            out["registry_sha1_only"] += 1
        reg.add((e.get("name") or tail_name(loc), e["version"], integ or ""))
    out["registry_packages"] = len(reg)
    out["registry_name_versions"] = len({(n, v) for n, v, _ in reg})
    out["registry_set"] = sorted(f"{n}@{v} {i}" for n, v, i in reg)
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
