#!/usr/bin/env bash
# Re-create trust-roots/ from published Sigstore client packages.
#
#   production trusted_root.json, npm keys.json and the TUF root: the npm package @sigstore/tuf
#     (its seeds.json embeds the public-good TUF targets, base64-encoded);
#   staging trusted_root.json: the PyPI package sigstore (sigstore-python ships the staging
#     instance's TUF target in sigstore/_store/).
#
# Usage: scripts/extract-trust-roots.sh [OUT_DIR]   (default: trust-roots/)
# Needs npm, pip and python3. Prints the sha256 of every file it writes; trust-roots/README.md
# records them, and a test checks the embedded copies against that README.
set -euo pipefail

TUF_NPM_VERSION="5.0.1"
SIGSTORE_PY_VERSION="4.1.0"
PROD_CDN="https://tuf-repo-cdn.sigstore.dev"

out="${1:-$(cd "$(dirname "$0")/.." && pwd)/trust-roots}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/staging"

(cd "$work" && npm pack --silent "@sigstore/tuf@${TUF_NPM_VERSION}" >/dev/null && tar xzf sigstore-tuf-*.tgz)
(cd "$work" && pip download --quiet --no-deps "sigstore==${SIGSTORE_PY_VERSION}" -d py >/dev/null)

python3 - "$work" "$out" "$PROD_CDN" <<'PY'
import base64, glob, json, os, sys, zipfile
work, out, cdn = sys.argv[1:4]

def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)

seeds = json.load(open(os.path.join(work, "package", "seeds.json")))[cdn]
write(os.path.join(out, "tuf-root.json"), base64.b64decode(seeds["root.json"]))
targets = seeds["targets"]
write(os.path.join(out, "trusted_root.json"), base64.b64decode(targets["trusted_root.json"]))
write(os.path.join(out, "npm-keys.json"), base64.b64decode(targets["registry.npmjs.org%2Fkeys.json"]))

wheel = zipfile.ZipFile(glob.glob(os.path.join(work, "py", "*.whl"))[0])
staging = "sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstage.dev/trusted_root.json"
write(os.path.join(out, "staging", "trusted_root.json"), wheel.read(staging))
PY

cd "$out"
sha256sum trusted_root.json npm-keys.json tuf-root.json staging/trusted_root.json
