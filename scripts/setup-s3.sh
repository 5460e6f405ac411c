#!/usr/bin/env bash
# The S3-compatible server the tests and the two-worker set-up use: SeaweedFS (Apache-2.0, Go), built once
# into .tools/bin/weed. `go install` refuses SeaweedFS (its go.mod has a replace directive), so a two-line
# wrapper module builds it (about 5 minutes on 2 cores, a 230 MB binary); later runs find the binary and
# skip the build. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v0.0.0-20261109003541-7506e5f91cd6
bin=.tools/bin/weed
stamp=.tools/bin/.weed-$version
if [ -x "$bin" ] && [ -f "$stamp" ]; then
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "sluice setup: Go is needed to build the S3 test server (SeaweedFS); install Go 1.24+ and retry" >&2
  exit 1
fi
echo "sluice setup: building the S3 test server (SeaweedFS $version) into $bin; about 5 minutes, once"
build=.tools/seaweedfs-build
rm -rf "$build" && mkdir -p "$build" .tools/bin
cat > "$build/go.mod" <<MOD
module sluice.local/weed

go 1.24

require github.com/seaweedfs/seaweedfs $version

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
MOD
echo 'package weed' > "$build/tools.go"
cat > "$build/tools.go" <<'GO'
//go:build tools

package weed

import _ "github.com/seaweedfs/seaweedfs/weed"
GO
(cd "$build" && go mod tidy >/dev/null 2>&1 && go build -trimpath -ldflags "-s -w" -o ../bin/weed.partial github.com/seaweedfs/seaweedfs/weed)
mv .tools/bin/weed.partial "$bin"
rm -f .tools/bin/.weed-* && touch "$stamp"
rm -rf "$build"
"$bin" version | grep -m1 "^version"
