#!/usr/bin/env bash
# The GraphiQL page's third-party files (api/assets/graphiql/), pinned in
# api/assets/graphiql/VERSIONS: downloads each package from the npm registry,
# checks the file taken from it, adds a license banner where the published
# file has none, and checks the result against the committed file.
#
#   .ci/graphiql/vendor.sh            check the committed files (changes nothing)
#   .ci/graphiql/vendor.sh --update   write the files and their hashes into VERSIONS
#                                     (after editing a version there; then update
#                                     the file names in index.html)
set -euo pipefail
cd "$(dirname "$0")/../.."
assets=api/assets/graphiql
versions=$assets/VERSIONS
mode=${1:-check}
case "$mode" in check | --update) ;; *) echo "usage: $0 [--update]" >&2; exit 2 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A banner for the published files that carry no license notice of their own.
banner() { # package version file
  case "$1:$3" in
    graphql-ws:umd/graphql-ws.min.js)
      printf '/*! graphql-ws %s | MIT License | Copyright (c) 2020 Denis Badurina | https://github.com/enisdenjo/graphql-ws */\n' "$2" ;;
    graphiql:graphiql.min.js)
      printf '/*! graphiql %s | MIT License | Copyright (c) 2021 GraphQL Contributors | https://github.com/graphql/graphiql\n * Bundles its npm dependencies (graphql-js, CodeMirror 5, Radix UI, markdown-it, ...) under their own licenses; their notices are kept below. */\n' "$2" ;;
    graphiql:graphiql.min.css)
      printf '/*! graphiql %s | MIT License | Copyright (c) 2021 GraphQL Contributors | https://github.com/graphql/graphiql\n * Embeds the fonts Roboto (Apache License 2.0) and Fira Code (SIL Open Font License 1.1). */\n' "$2" ;;
  esac
}

status=0
new_versions=$work/VERSIONS
while IFS= read -r line; do
  case "$line" in '' | '#'*) echo "$line" >>"$new_versions"; continue ;; esac
  read -r package version path name upstream_sha vendored_sha url <<<"$line"
  tarball_dir=$work/$package-$version
  if [ ! -d "$tarball_dir" ]; then
    mkdir -p "$tarball_dir"
    tgz=$(cd "$tarball_dir" && npm pack --silent "$package@$version")
    tar -xzf "$tarball_dir/$tgz" -C "$tarball_dir"
    expected_url=$(npm view "$package@$version" dist.tarball)
    [ "$expected_url" = "$url" ] || { echo "$package@$version: tarball is $expected_url, VERSIONS says $url" >&2; status=1; }
  fi
  source_file=$tarball_dir/package/$path
  { banner "$package" "$version" "$path"; cat "$source_file"; } >"$work/$name"
  got_upstream=$(sha256sum <"$source_file" | cut -d' ' -f1)
  got_vendored=$(sha256sum <"$work/$name" | cut -d' ' -f1)
  if [ "$mode" = --update ]; then
    cp "$work/$name" "$assets/$name"
    printf '%s %s %s %s %s %s %s\n' "$package" "$version" "$path" "$name" "$got_upstream" "$got_vendored" "$url" >>"$new_versions"
    echo "wrote $assets/$name"
    continue
  fi
  echo "$line" >>"$new_versions"
  if [ "$got_upstream" != "$upstream_sha" ]; then
    echo "$package@$version $path: sha256 $got_upstream, VERSIONS says $upstream_sha" >&2; status=1
  elif [ "$got_vendored" != "$vendored_sha" ]; then
    echo "$name: built sha256 $got_vendored, VERSIONS says $vendored_sha" >&2; status=1
  elif ! cmp -s "$work/$name" "$assets/$name"; then
    echo "$assets/$name differs from $package@$version $path" >&2; status=1
  else
    echo "ok $name ($package@$version $path)"
  fi
  grep -q "/graphiql/$name\"" "$assets/index.html" || { echo "index.html does not load /graphiql/$name" >&2; status=1; }
  head -c 2048 "$assets/$name" | grep -qi 'license' || { echo "$name: no license notice at its start" >&2; status=1; }
done <"$versions"

if [ "$mode" = --update ]; then
  cp "$new_versions" "$versions"
  echo "updated $versions"
fi
exit "$status"
