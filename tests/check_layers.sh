#!/usr/bin/env bash
# check_layers.sh SOURCE_DIR -- the layering of docs/architecture.md holds:
# every `#include "..."` of a file under src/LAYER names a file of its own
# directory, the public header, or a file of a layer LAYER may depend on,
# and no layer below the UDF layer names a wudf__udf_ identifier. Prints
# every violation and exits 1 if there is one.
#
#   common  <- nothing but the public header
#   engine  <- common (and wabt's wasm-rt.h)
#   arrow   <- common
#   abi     <- arrow, common
#   io      <- arrow, common
#   udf     <- engine (only its interface to the layer above, layer.h),
#              abi, arrow, common
#
# src/library.c, the composition root, may name any layer; cli/ and
# python/src (the extension) only the public headers, include/wasmudf.
set -u
root=${1:-.}
cd "$root/src" || exit 2

# The directories (or single headers) each layer may include from, besides
# its own directory.
declare -A allowed=(
  [common]=""
  [engine]="common"
  [arrow]="common"
  [abi]="arrow common"
  [io]="arrow common"
  [udf]="engine/layer.h abi arrow common"
)
# Files a layer includes by name that are not in the tree: the public
# header and wabt's runtime header.
external='^(wasmudf/wasmudf\.h|wasm-rt\.h)$'

violations=0
for layer in "${!allowed[@]}"; do
  for file in "$layer"/*.c "$layer"/*.h; do
    [ -e "$file" ] || continue
    while IFS= read -r line; do
      target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"$line")
      if [[ "$target" =~ $external ]]; then continue; fi
      if [[ "$target" != */* ]]; then
        [ -e "$layer/$target" ] && continue
        echo "$file: includes \"$target\", which is not in src/$layer"
        violations=$((violations + 1))
        continue
      fi
      dir=$(sed -E 's|^\.\./([^/]+)/.*|\1|' <<<"$target")
      ok=0
      for permitted in ${allowed[$layer]}; do
        [ "$dir" = "$permitted" ] && ok=1
        [ "$target" = "../$permitted" ] && ok=1
      done
      if [ "$ok" -eq 0 ]; then
        echo "$file: includes \"$target\": src/$layer may include only from ${allowed[$layer]:-its own directory}"
        violations=$((violations + 1))
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file")
  done
done

# The CLI and the Python extension use the public API only: their own
# headers and include/wasmudf.
for dir in cli python/src; do
  for file in "../$dir"/*.c "../$dir"/*.h; do
    [ -e "$file" ] || continue
    while IFS= read -r line; do
      target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"$line")
      if [[ "$target" =~ ^wasmudf/ ]]; then continue; fi
      if [[ "$target" != */* && -e "../$dir/$target" ]]; then continue; fi
      echo "${file#../}: includes \"$target\": $dir may use the public API only"
      violations=$((violations + 1))
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file")
  done
done

# The layers below the UDF layer know nothing of it, not even its names.
for layer in common engine arrow abi io; do
  if grep -n 'wudf__udf_' "$layer"/*.c "$layer"/*.h 2>/dev/null; then
    echo "src/$layer names the UDF layer (above)"
    violations=$((violations + 1))
  fi
done

if [ "$violations" -gt 0 ]; then
  echo "$violations layering violation(s): see docs/architecture.md"
  exit 1
fi
echo "the layers depend in one direction only (docs/architecture.md)"
