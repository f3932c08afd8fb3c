#!/usr/bin/env bash
# Build the TypeScript/JavaScript half of the training corpus from the npm registry.
#
# Usage: bash training/fetch_npm_corpus.sh OUT_DIR
#
# Reads training/npm-packages.txt (one pinned name@version per line, '#' comments),
# downloads each tarball (8 in parallel, cached in OUT_DIR/.tarballs), checks its
# integrity and its license (from the tarball's own package.json), and extracts into
# OUT_DIR/<name with / replaced by __>@<version>/ only:
#   - the root package.json
#   - license files (LICENSE*, LICENCE*, COPYING*, any case)
#   - .ts .tsx .mts .cts .js .jsx .mjs .cjs files (incl. .d.ts) of at most 512 KiB,
#     not under node_modules/, not *.min.js / *.min.mjs, no '.bundle.' in the name.
# Then prints a summary and writes OUT_DIR.tar.xz (package folders only, xz -6 -T2).
#
# Idempotent: cached tarballs are not downloaded again, packages already extracted
# (recorded in OUT_DIR/.state) are not extracted again, folders of packages no longer
# in the list are removed, and the archive is rebuilt only when its content changed.
# Needs only bash, curl, tar, xz and node.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIST="${NPM_PACKAGES_LIST:-$HERE/npm-packages.txt}"
REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"
REGISTRY="${REGISTRY%/}"
JOBS="${FETCH_JOBS:-8}"
MAX_BYTES=524288 # 512 KiB
FILTER_VERSION=1 # bump when the selection rules change, to force re-extraction

# Encode a package name for a folder: @scope/name -> @scope__name
safe_name() { printf '%s' "${1//\//__}"; }

# Split "name@version" (name may start with @).
split_spec() {
  local spec="$1"
  local rest="${spec#@}"
  local prefix="${spec%%"$rest"}"
  SPEC_NAME="$prefix${rest%@*}"
  SPEC_VERSION="${rest##*@}"
  if [[ "$rest" != *@* || -z "$SPEC_VERSION" || "$SPEC_NAME" == "$prefix" ]]; then
    return 1
  fi
}

# ---------------------------------------------------------------------------
# Worker: download one tarball into the cache (called through xargs).
# ---------------------------------------------------------------------------
download_one() {
  local out="$1" spec="$2"
  split_spec "$spec" || { echo "bad spec: $spec" > "$out/.state/$(safe_name "$spec").dlerr"; return 0; }
  local name="$SPEC_NAME" version="$SPEC_VERSION"
  local key; key="$(safe_name "$name")@$version"
  local tgz="$out/.tarballs/$key.tgz"
  local err="$out/.state/$key.dlerr"
  rm -f "$err"
  [[ -s "$tgz" ]] && return 0

  local tmp; tmp="$(mktemp "$out/.tarballs/.dl.XXXXXX")"
  local meta
  # Version metadata gives the tarball URL and its integrity.
  if ! meta="$(curl -fsSL --retry 3 --retry-delay 2 --max-time 120 "$REGISTRY/${name/\//%2F}/$version")"; then
    echo "metadata download failed" > "$err"; rm -f "$tmp"; return 0
  fi
  local info
  if ! info="$(printf '%s' "$meta" | node -e '
      let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
        const j = JSON.parse(s);
        if (!j.dist || !j.dist.tarball) process.exit(1);
        console.log(j.dist.tarball + "\t" + (j.dist.integrity || "") + "\t" + (j.dist.shasum || ""));
      });')"; then
    echo "no tarball in metadata" > "$err"; rm -f "$tmp"; return 0
  fi
  local url integrity shasum
  IFS=$'\t' read -r url integrity shasum <<< "$info"
  if ! curl -fsSL --retry 3 --retry-delay 2 --max-time 600 "$url" -o "$tmp"; then
    echo "tarball download failed" > "$err"; rm -f "$tmp"; return 0
  fi
  if ! node -e '
      const fs = require("fs"), crypto = require("crypto");
      const [file, integrity, shasum] = process.argv.slice(1);
      const buf = fs.readFileSync(file);
      if (integrity) {
        const ok = integrity.split(/\s+/).filter(Boolean).some(e => {
          const i = e.indexOf("-"); const alg = e.slice(0, i), want = e.slice(i + 1);
          try { return crypto.createHash(alg).update(buf).digest("base64") === want; } catch { return false; }
        });
        process.exit(ok ? 0 : 1);
      }
      if (shasum) process.exit(crypto.createHash("sha1").update(buf).digest("hex") === shasum ? 0 : 1);
    ' "$tmp" "$integrity" "$shasum"; then
    echo "integrity mismatch" > "$err"; rm -f "$tmp"; return 0
  fi
  mv -f "$tmp" "$tgz"
}

if [[ "${1:-}" == "__download" ]]; then
  download_one "$2" "$3"
  exit 0
fi

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
OUT="${1%/}"
[[ -f "$LIST" ]] || { echo "package list not found: $LIST" >&2; exit 2; }
for tool in curl tar xz node; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
mkdir -p "$OUT/.tarballs" "$OUT/.state"
OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT/.tarballs/.dl."* 2>/dev/null || true

# Read the list: strip comments and blanks, drop duplicates (keep first).
mapfile -t SPECS < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$LIST" | awk 'NF && !seen[$0]++')
echo "== ${#SPECS[@]} packages in $LIST"

# ---- download (parallel) ---------------------------------------------------
echo "== downloading missing tarballs ($JOBS at a time) into $OUT/.tarballs"
printf '%s\n' "${SPECS[@]}" | xargs -P "$JOBS" -n 1 bash "$HERE/$(basename "${BASH_SOURCE[0]}")" __download "$OUT"

# ---- license check + extraction -------------------------------------------
license_ok() { # prints the license string; exit 0 when permissive
  node -e '
    const ok = new Set(["MIT","ISC","BSD-2-Clause","BSD-3-Clause","Apache-2.0","0BSD",
      "Unlicense","CC0-1.0","BlueOak-1.0.0","Python-2.0"]);
    let pkg; try { pkg = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); }
    catch { console.log("unreadable package.json"); process.exit(1); }
    let l = pkg.license;
    if (l && typeof l === "object") l = l.type;
    if (!l && Array.isArray(pkg.licenses)) l = pkg.licenses.map(x => x && (x.type || x)).join(" OR ");
    if (typeof l !== "string" || !l.trim()) { console.log("no license field"); process.exit(1); }
    console.log(l);
    // Single id, or an SPDX OR-expression with at least one permissive id.
    const s = l.replace(/[()]/g, " ");
    const alts = s.split(/\s+OR\s+/);
    const good = alts.some(a => {
      const parts = a.split(/\s+AND\s+/).map(x => x.trim());
      return parts.every(p => ok.has(p));
    });
    process.exit(good ? 0 : 1);
  ' "$1"
}

declare -A WANTED=()
SKIPPED=()
for spec in "${SPECS[@]}"; do
  if ! split_spec "$spec"; then SKIPPED+=("$spec: bad spec (want name@version)"); continue; fi
  key="$(safe_name "$SPEC_NAME")@$SPEC_VERSION"
  tgz="$OUT/.tarballs/$key.tgz"
  state="$OUT/.state/$key.ok"
  dest="$OUT/$key"
  if [[ -f "$OUT/.state/$key.dlerr" || ! -s "$tgz" ]]; then
    reason="$(cat "$OUT/.state/$key.dlerr" 2>/dev/null || echo "download failed")"
    SKIPPED+=("$spec: $reason"); rm -rf "$dest" "$state"; continue
  fi
  if [[ -f "$state" && -d "$dest" ]] && grep -q "^filter=$FILTER_VERSION$" "$state"; then
    WANTED["$key"]=1; continue
  fi
  rm -rf "$dest" "$state"
  work="$(mktemp -d "$OUT/.state/.x.XXXXXX")"
  if ! tar -xzf "$tgz" -C "$work" --no-same-owner --no-same-permissions 2>"$work.err"; then
    SKIPPED+=("$spec: tarball does not extract ($(head -c 200 "$work.err" | tr '\n' ' '))")
    rm -rf "$work" "$work.err"; continue
  fi
  rm -f "$work.err"
  chmod -R u+rwX "$work"
  # npm tarballs have one top folder (usually package/, not always).
  mapfile -t tops < <(find "$work" -mindepth 1 -maxdepth 1)
  if [[ ${#tops[@]} -eq 1 && -d "${tops[0]}" ]]; then root="${tops[0]}"; else root="$work"; fi
  if [[ ! -f "$root/package.json" ]]; then
    SKIPPED+=("$spec: no package.json in tarball"); rm -rf "$work"; continue
  fi
  if ! lic="$(license_ok "$root/package.json")"; then
    SKIPPED+=("$spec: license not permissive ($lic)"); rm -rf "$work"; continue
  fi
  mkdir -p "$dest"
  cp "$root/package.json" "$dest/package.json"
  # Select files (paths relative to the package root) and copy them with tar.
  (cd "$root" && find . -path '*/node_modules' -prune -o -type f \( \
        \( \( -name '*.ts' -o -name '*.tsx' -o -name '*.mts' -o -name '*.cts' \
              -o -name '*.js' -o -name '*.jsx' -o -name '*.mjs' -o -name '*.cjs' \) \
           -size -$((MAX_BYTES + 1))c \
           ! -name '*.min.js' ! -name '*.min.mjs' ! -name '*.bundle.*' \) \
        -o -iname 'LICENSE*' -o -iname 'LICENCE*' -o -iname 'COPYING*' \
      \) -print0) \
    | tar -C "$root" --null -T - -cf - | tar -C "$dest" -xf - --no-same-owner
  rm -rf "$work"
  if [[ -z "$(find "$dest" -type f \( -name '*.ts' -o -name '*.tsx' -o -name '*.mts' -o -name '*.cts' \
        -o -name '*.js' -o -name '*.jsx' -o -name '*.mjs' -o -name '*.cjs' \) -print -quit)" ]]; then
    SKIPPED+=("$spec: no source files kept"); rm -rf "$dest"; continue
  fi
  printf 'license=%s\nfilter=%s\n' "$lic" "$FILTER_VERSION" > "$state"
  WANTED["$key"]=1
done
rm -rf "$OUT/.state/.x."* 2>/dev/null || true

# Remove folders of packages that are no longer in the list (or were skipped).
while IFS= read -r -d '' d; do
  b="$(basename "$d")"
  if [[ -z "${WANTED[$b]:-}" ]]; then
    echo "   removing stale $b"; rm -rf "$d" "$OUT/.state/$b.ok"
  fi
done < <(find "$OUT" -mindepth 1 -maxdepth 1 -type d ! -name '.tarballs' ! -name '.state' -print0)

# ---- summary ---------------------------------------------------------------
mapfile -t KEPT < <(printf '%s\n' "${!WANTED[@]}" | LC_ALL=C sort)
nfiles=0; nbytes=0
if [[ ${#KEPT[@]} -gt 0 && -n "${KEPT[0]}" ]]; then
  read -r nfiles nbytes < <(cd "$OUT" && find "${KEPT[@]}" -type f -printf '%s\n' \
    | awk '{n++; s+=$1} END {printf "%d %d\n", n, s}')
else
  KEPT=()
fi
echo
echo "== summary"
echo "packages kept:    ${#KEPT[@]}"
echo "packages skipped: ${#SKIPPED[@]}"
for s in "${SKIPPED[@]}"; do echo "   - $s"; done
echo "files:            $nfiles"
echo "total bytes:      $nbytes ($(awk -v b="$nbytes" 'BEGIN{printf "%.1f", b/1048576}') MiB)"

# ---- archive ---------------------------------------------------------------
ARCHIVE="$OUT.tar.xz"
if [[ -n "${NPM_CORPUS_NO_ARCHIVE:-}" ]]; then
  echo "archive:          skipped (NPM_CORPUS_NO_ARCHIVE set)"
  exit 0
fi
manifest="$(printf '%s\n' "${KEPT[@]}" "filter=$FILTER_VERSION")"
if [[ -f "$ARCHIVE" && -f "$OUT/.state/archive.manifest" ]] \
   && [[ "$(cat "$OUT/.state/archive.manifest")" == "$manifest" ]]; then
  echo "archive:          $ARCHIVE up to date ($(stat -c %s "$ARCHIVE") bytes)"
  exit 0
fi
if [[ ${#KEPT[@]} -eq 0 ]]; then
  echo "nothing kept; no archive written" >&2
  exit 1
fi
echo "== writing $ARCHIVE (xz -6 -T2)"
rm -f "$OUT/.state/archive.manifest"
tar -C "$OUT" -cf - --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --mode='u+rw,go+r,go-w' "${KEPT[@]}" \
  | xz -6 -T2 > "$ARCHIVE.tmp"
mv -f "$ARCHIVE.tmp" "$ARCHIVE"
printf '%s' "$manifest" > "$OUT/.state/archive.manifest"
echo "archive:          $ARCHIVE ($(stat -c %s "$ARCHIVE") bytes)"
