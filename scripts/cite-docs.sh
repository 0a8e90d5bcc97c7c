#!/usr/bin/env bash
# Rewrites comment citations of documents that live outside the repository to the documents in
# docs/, then lists what is left for a person to fix.
#
#   design §N               → docs/architecture.md §N       (same section numbers)
#   reference §N.M          → docs/wecom.md §N.M            (same section numbers; also "WeCom reference §")
#   conventions §N          → docs/architecture.md §13.N    (house rules 1–12 → §13.1–§13.12)
#   conventions rule N      → docs/architecture.md §13.N
#   (conventions: …         → (docs/architecture.md §13: …
#   reference §3.1 markdown → docs/wecom.md §3.12 markdown  (a known mis-citation: markdown is message/send)
#   a citation split over two comment lines ("… design" / " * §6 …") is rewritten too.
#
# Only lines that start with a comment marker (`*`, `/*`, `//`, `<!--`) are rewritten, so string
# literals, test names and code are never touched; citations elsewhere are listed instead.
# Files: the .ts and .vue files git tracks under src/, jobs/, scripts/ and config/.
#
# Usage: scripts/cite-docs.sh [--dry-run]
#   --dry-run  print the diff, the counts and what would be left; change nothing.
set -euo pipefail

dry_run=false
case "${1:-}" in
  --dry-run | -n) dry_run=true ;;
  '') ;;
  *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac

cd "$(git rev-parse --show-toplevel)"

mapfile -t files < <(git ls-files 'src/**' 'jobs/**' 'scripts/**' 'config/**' | grep -E '\.(ts|vue)$')

# A line whose first non-blank characters open or continue a comment.
comment_line='^[[:space:]]*(\*|/\*|//|<!--)'

# Pass 1: citations on one comment line.
one_line=$(cat <<'SED'
\%^[[:space:]]*(\*|/\*|//|<!--)% {
  s/\breference §3\.1 markdown/docs\/wecom.md §3.12 markdown/g
  s/\bWeCom reference §/docs\/wecom.md §/g
  s/\breference §/docs\/wecom.md §/g
  s/\b[Dd]esign §/docs\/architecture.md §/g
  s/\bconventions §([0-9]+)/docs\/architecture.md §13.\1/g
  s/\bconventions rule ([0-9]+)/docs\/architecture.md §13.\1/g
  s/\(conventions: /(docs\/architecture.md §13: /g
}
SED
)

# Pass 2: a comment line ending in "design" or "reference" whose next line continues the comment
# with the section sign (" * §6): …").
split=$(cat <<'SED'
\%^[[:space:]]*(\*|/\*|//).*\b([Dd]esign|reference)$% {
  N
  s/\b[Dd]esign\n([[:space:]]*\*[[:space:]]*§)/docs\/architecture.md\n\1/
  s/\breference\n([[:space:]]*\*[[:space:]]*§)/docs\/wecom.md\n\1/
}
SED
)

count_targets() { grep -oE 'docs/(architecture|wecom)\.md §|docs/(architecture|wecom)\.md$' "$@" | wc -l || true; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/tree" # the rewritten tree (written back unless --dry-run)
changed=0
replaced=0
for f in "${files[@]}"; do
  mkdir -p "$tree/$(dirname "$f")"
  sed -E "$one_line" "$f" | sed -E "$split" >"$tree/$f"
  if ! cmp -s "$f" "$tree/$f"; then
    changed=$((changed + 1))
    replaced=$((replaced + $(count_targets "$tree/$f") - $(count_targets "$f")))
    if $dry_run; then
      diff -u --label "a/$f" --label "b/$f" "$f" "$tree/$f" || true
    else
      cat "$tree/$f" >"$f" # in place, keeping the file's mode
    fi
  fi
done

echo
echo "== $replaced citations rewritten in $changed files$($dry_run && echo ' (dry run: nothing written)' || true)"

# What is left for a person, in the rewritten tree.
cd "$tree"

report_hits() {
  local title=$1 hits=$2 mode=${3:-lines}
  [ -z "$hits" ] && return 0
  echo
  echo "== $title ($(printf '%s\n' "$hits" | wc -l) lines)"
  if [ "$mode" = files ]; then
    printf '%s\n' "$hits" | cut -d: -f1 | sort | uniq -c | sort -rn
  else
    printf '%s\n' "$hits" | cut -c1-220
  fi
}

report() { # report TITLE PATTERN [lines|files] [grep option]
  report_hits "$1" "$(grep -nE ${4:-} "$2" "${files[@]}" 2>/dev/null || true)" "${3:-lines}"
}

echo
echo "-- left for hand fixing --"
report_hits 'citations outside comment lines (string literals, test names): not rewritten' \
  "$(grep -nE '\b([Dd]esign|reference|conventions) §[0-9]' "${files[@]}" | grep -vE "^[^:]+:[0-9]+:${comment_line#^}" || true)"
in_comments() { grep -E "^[^:]+:[0-9]+:${comment_line#^}" || true; }
report_hits 'comment citations not rewritten' \
  "$(grep -nE '\b([Dd]esign|reference|conventions) §[0-9]|\bconventions (rule|:)' "${files[@]}" | in_comments)"
report_hits 'comment citations split over two lines, not rewritten' \
  "$(grep -nE '\b([Dd]esign|reference)$' "${files[@]}" | in_comments)"
report 'mentions of ../shared' '\.\./shared|/work/shared'
report 'mentions of design.md / reference.md / conventions.md' '\b(design|reference|conventions)\.md\b'
report 'issue numbers' '\bissue [0-9]' lines -i
report 'other outside documents: reliability notes' '\breliability (§|[A-Z][0-9])'
report 'other outside documents: mongo-wire notes ("notes §")' '\bnotes §[0-9]'
# Bare section signs: in src/wecom and the sandbox they follow the numbering of docs/wecom.md
# (the file cites it in its header); in scripts/dev-mongo they follow the mongo-wire notes.
report_hits 'bare § numbers (no document named): check what each file means' \
  "$(grep -nP '(?<!design |Design |reference |conventions |\.md |notes |reliability |, |–|/|§)§[0-9]' "${files[@]}" || true)" files
