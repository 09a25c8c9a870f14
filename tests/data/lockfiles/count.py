#!/usr/bin/env python3
"""Independent counter for yarn.lock (v1 and berry), pnpm-lock.yaml and bun.lock.

Written apart from the Rust readers and with other means: regular expressions over lines
(no YAML library: PyYAML is not installed on the build machines), and Python's json module
for bun.lock after dropping trailing commas. It prints one JSON object:

  format            "yarn-v1" | "yarn-berry" | "pnpm" | "bun"
  entries           lockfile entries read (yarn blocks without the root workspace, pnpm
                    `packages` keys, bun `packages` keys without the root)
  registry          sorted "name@version integrity" of the distinct registry packages
                    (integrity "" when the lockfile pins none; yarn berry never does)
  integrity_missing registry entries without an integrity
  other             {origin: number of distinct non-registry packages}
  patched           sorted "name@version" of registry packages installed with a patch

Usage: count.py LOCKFILE
"""
import json
import re
import sys
import urllib.parse
import base64

REGISTRY_TARBALL = re.compile(r"^https?://[^/]+/.*/-/[^/]+\.tgz$")


def origin_of_url(url):
    """Origin of a resolved/tarball URL: None for a registry tarball."""
    low = url.lower()
    for p in ("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "ssh:"):
        if low.startswith(p):
            return "git"
    if low.startswith("file:"):
        return "file"
    if low.startswith("http://") or low.startswith("https://"):
        path = re.split(r"[?#]", low)[0]
        return None if REGISTRY_TARBALL.match(path) else "tarball-url"
    return "file"


def name_and_rest(spec):
    """'@s/a@x' -> ('@s/a', 'x')."""
    m = re.match(r"^(@[^@/]+/[^@]+|[^@]+)@(.*)$", spec)
    if not m:
        raise SystemExit("cannot split %r" % spec)
    return m.group(1), m.group(2)


class Tally:
    def __init__(self, fmt):
        self.fmt = fmt
        self.entries = 0
        self.registry = set()
        self.missing = 0
        self.other = {}
        self.patched = set()

    def reg(self, name, version, integrity, patched=False):
        self.entries += 1
        if not integrity:
            self.missing += 1
        self.registry.add("%s@%s %s" % (name, version, integrity or ""))
        if patched:
            self.patched.add("%s@%s" % (name, version))

    def oth(self, origin, ident):
        self.entries += 1
        self.other.setdefault(origin, set()).add(ident)

    def out(self):
        return {
            "format": self.fmt,
            "entries": self.entries,
            "registry": sorted(self.registry),
            "integrity_missing": self.missing,
            "other": {k: len(v) for k, v in sorted(self.other.items())},
            "patched": sorted(self.patched),
        }


def blocks(lines):
    """Top-level blocks: [(header, [indented lines])]."""
    out = []
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            out.append((line.rstrip()[:-1], []))
        elif out:
            out[-1][1].append(line)
    return out


def field(body, name, indent):
    pat = re.compile(r"^" + " " * indent + re.escape(name) + r":? (.*)$")
    for line in body:
        m = pat.match(line.rstrip())
        if m:
            v = m.group(1).strip()
            if v.startswith('"') and v.endswith('"'):
                v = json.loads(v)
            return v
    return None


def yarn_v1(text):
    t = Tally("yarn-v1")
    for header, body in blocks(text.splitlines()):
        first = header.split(",")[0].strip().strip('"')
        installed, rng = name_and_rest(first)
        version = field(body, "version", 2)
        resolved = field(body, "resolved", 2)
        integrity = field(body, "integrity", 2)
        name = installed
        if rng.startswith("npm:") and "@" in rng[4:]:
            name = name_and_rest(rng[4:])[0]
        if rng.startswith("file:") or rng.startswith("link:"):
            t.oth(rng.split(":")[0], (name, version, rng))
            continue
        src = resolved
        if src is None and ("://" in rng or rng.startswith("git")):
            src = rng
        o = origin_of_url(src) if src else None
        if o:
            t.oth(o, (name, version, src))
            continue
        if integrity is None and resolved and "#" in resolved:
            h = resolved.rsplit("#", 1)[1]
            if re.fullmatch(r"[0-9a-f]{40}", h):
                integrity = "sha1-" + base64.b64encode(bytes.fromhex(h)).decode()
        t.reg(name, version, integrity)
    return t


def yarn_berry(text):
    t = Tally("yarn-berry")
    for header, body in blocks(text.splitlines()):
        if header == "__metadata":
            continue
        first = header.split(",")[0].strip().strip('"')
        resolution = field(body, "resolution", 2)
        version = field(body, "version", 2)
        if resolution is None:
            key_name, rng = name_and_rest(first)
            resolution = "%s@npm:%s" % (key_name, version)
        name, ref = name_and_rest(resolution)
        patched = False
        if ref.startswith("patch:"):
            patched = True
            inner = urllib.parse.unquote(ref[len("patch:"):].split("#")[0])
            name, ref = name_and_rest(inner)
        if ref.startswith("npm:"):
            t.reg(name, ref[4:].split("::")[0], None, patched)
        elif ref == "workspace:.":
            continue
        else:
            proto = ref.split(":")[0]
            origin = {"workspace": "workspace", "link": "link", "portal": "link",
                      "file": "file", "exec": "file"}.get(proto)
            if origin is None:
                origin = "git" if (".git#" in ref or "#commit=" in ref
                                   or proto in ("git", "github", "ssh")) else "tarball-url"
            t.oth(origin, (name, version, ref))
    return t


def pnpm(text):
    t = Tally("pnpm")
    lines = text.splitlines()
    patched_keys = set()
    section = None
    key = None
    body = {}
    order = []
    for line in lines:
        if line and not line.startswith(" "):
            section = line.rstrip(":").strip()
            continue
        if section == "patchedDependencies":
            m = re.match(r"^  (?! )'?([^']+?)'?:$", line)
            if m:
                patched_keys.add(m.group(1))
        if section != "packages":
            continue
        m = re.match(r"^  (?! )'?(.+?)'?:$", line)
        if m:
            key = m.group(1)
            order.append(key)
            body[key] = []
        elif key and line.startswith("    "):
            body[key].append(line)
    for key in order:
        b = body[key]
        bare = key.lstrip("/").split("(")[0]
        if re.match(r"^(@[^@/]+/[^@]+|[^@]+)@", bare):
            kname, kref = name_and_rest(bare)
        else:  # v6 folder/git keys: the name is in a field
            kname, kref = None, bare
        version = field(b, "version", 4) or kref
        name = field(b, "name", 4) or kname
        res = field(b, "resolution", 4) or ""
        integ = re.search(r"integrity: ([^,} ]+)", res)
        tarball = re.search(r"tarball: ([^,} ]+)", res)
        rtype = re.search(r"type: ([^,} ]+)", res)
        patched = ("%s@%s" % (name, version)) in patched_keys or name in patched_keys
        if rtype and rtype.group(1) == "directory":
            d = re.search(r"directory: ([^,}]+)", res).group(1).strip()
            t.oth("file", (name, version, d))
        elif rtype and rtype.group(1) == "git":
            t.oth("git", (name, version, res))
        elif tarball and (origin_of_url(tarball.group(1)) or ":" in version):
            t.oth(origin_of_url(tarball.group(1)) or "tarball-url", (name, version, tarball.group(1)))
        else:
            t.reg(name, version, integ.group(1) if integ else None, patched)
    return t


def bun(text):
    t = Tally("bun")
    doc = json.loads(re.sub(r",(\s*[\]}])", r"\1", text))
    for path, arr in doc.get("packages", {}).items():
        name, ref = name_and_rest(arr[0])
        proto = ref.split(":")[0] if ":" in ref else ""
        if proto == "root":
            continue
        if proto in ("workspace", "link", "file"):
            t.oth(proto, (name, ref))
        elif proto in ("github", "git", "git+ssh", "git+https", "ssh"):
            t.oth("git", (name, ref))
        elif proto in ("http", "https"):
            t.oth("tarball-url", (name, ref))
        else:
            t.reg(name, ref, arr[3] or None,
                  ("%s@%s" % (name, ref)) in doc.get("patchedDependencies", {}))
    return t


def main():
    path = sys.argv[1]
    text = open(path, encoding="utf-8").read()
    if path.endswith("bun.lock"):
        t = bun(text)
    elif path.endswith("pnpm-lock.yaml"):
        t = pnpm(text)
    elif re.search(r"^__metadata:$", text, re.M):
        t = yarn_berry(text)
    else:
        t = yarn_v1(text)
    json.dump(t.out(), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
