#!/usr/bin/env bash
# RapidJSON is built with its SSE2/NEON scanning on (meson.build). Those scans
# load whole aligned 16-byte blocks, so parsing a null-terminated text reads
# up to 15 bytes past its end: undefined behaviour, and AddressSanitizer
# reports it. This check fails on any parse that is given a null-terminated
# text: Document::Parse/ParseInsitu with one argument, or a StringStream or
# InsituStringStream outside the document parser (whose buffer has the room).
# Parse(text, length) reads through a bounded stream and is always fine.
set -u
root=${1:?usage: json_parse_lint.sh SOURCE_ROOT}
cd "$root" || exit 2
dirs=(src http replicator tests bench examples)
fail=0
# A Parse( or Parse<...>( call whose arguments hold no top-level comma.
hits=$(grep -rnP --include='*.cc' --include='*.h' \
  '\b(Parse|ParseInsitu)(<[^<>]*>)?\((?:[^(),]|\((?:[^()]|\([^()]*\))*\))*\)' "${dirs[@]}" 2>/dev/null |
  grep -v '/node_modules/' | grep -vP '\b(Parse|ParseInsitu)(<[^<>]*>)?\(\)' )
if [ -n "$hits" ]; then
  echo "json_parse_lint: parse with the text's length, not a null-terminated string:"
  echo "$hits"
  fail=1
fi
hits=$(grep -rnP --include='*.cc' --include='*.h' '\b(Insitu)?StringStream\b' "${dirs[@]}" 2>/dev/null |
  grep -v '/node_modules/' | grep -v '^src/db/doc_parser.cc:')
if [ -n "$hits" ]; then
  echo "json_parse_lint: a StringStream reads past the end with SIMD on; use MemoryStream:"
  echo "$hits"
  fail=1
fi
exit $fail
