#!/usr/bin/env bash
# Build kustomize from the Go module proxy into .cache/bin/kustomize (cached), so that
# `kustomize build deploy/kubernetes/overlays/<env>` and the unit tests work on a machine
# without kubectl. Go 1.24+ is needed (the same Go that builds FerretDB, see
# deploy/local/services.sh); the Go caches live under .cache/go like FerretDB's.
#
#   deploy/kubernetes/build-kustomize.sh          # prints the binary's path
#   BOUCLE_KUSTOMIZE_VERSION=v5.8.2 deploy/kubernetes/build-kustomize.sh
#
# Re-running does nothing once the binary of that version is there (a stamp file records
# which version was built).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache"
# v5.8.1 is the newest release whose go.mod asks for no newer Go than 1.24.
VERSION="${BOUCLE_KUSTOMIZE_VERSION:-v5.8.1}"
BIN="$CACHE/bin/kustomize"

if [[ -x "$BIN" && -f "$BIN.stamp" && "$(cat "$BIN.stamp")" == "$VERSION" ]]; then
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || { echo "build-kustomize: install Go 1.24+ first" >&2; exit 1; }

mkdir -p "$CACHE/bin"
tmp="$(mktemp -d "$CACHE/bin/.kustomize-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "build-kustomize: building sigs.k8s.io/kustomize/kustomize/v5@$VERSION from the Go module proxy" >&2
(
  export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local
  export GOBIN="$tmp" CGO_ENABLED=0
  go install -trimpath "sigs.k8s.io/kustomize/kustomize/v5@$VERSION"
) || { echo "build-kustomize: building kustomize $VERSION failed (see above)" >&2; exit 1; }
mv "$tmp/kustomize" "$BIN"
echo "$VERSION" >"$BIN.stamp"
echo "$BIN"
