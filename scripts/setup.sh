#!/usr/bin/env bash
# Installs what EndoScribe needs on a Debian bookworm machine, and nothing that is
# already there. Quiet when everything is present; names what failed otherwise.
# Idempotent: a second run does no network work.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
mkdir -p "$CACHE"

say()  { echo "setup: $*" >&2; }
fail() { echo "setup: FAILED: $*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------
APT_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates dpkg-dev
  emscripten clang libclang-rt-14-dev
  nlohmann-json3-dev libstb-dev libgtest-dev libcpp-httplib-dev
  libhpdf-dev fonts-dejavu-core poppler-utils
  sentencepiece libsentencepiece-dev libprotobuf-dev
  python3-onnx python3-numpy python3-sentencepiece python3-pil
  python3-sklearn python3-nltk python3-jsonschema
  chromium nodejs npm
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs from another repository may provide npm itself.
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq >/dev/null || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$CACHE/apt-install.log" 2>&1 \
    || { tail -20 "$CACHE/apt-install.log" >&2; fail "apt-get install ${missing[*]} (log: $CACHE/apt-install.log)"; }
fi

# --- Debian source packages for the WebAssembly build ----------------------
# A private deb-src list so the machine's apt configuration is left untouched.
fetch_source() { # name version-glob dir-marker
  local name="$1" dest="$CACHE/src/$1"
  if [[ -f "$dest/.ok" ]]; then return; fi
  say "fetching Debian source package $name"
  local apt="$CACHE/apt-src"
  mkdir -p "$apt/lists/partial" "$dest"
  echo "deb-src http://deb.debian.org/debian bookworm main" >"$apt/sources.list"
  local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache")
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || fail "apt-get update for deb-src list"
  local tmp; tmp="$(mktemp -d)"
  if ! (cd "$tmp" && apt-get "${opts[@]}" source -qq "$name" >/dev/null 2>&1); then
    # Some mirrors lack a package's small debian.tar.xz (libharu 2.3.0+dfsg-1 on
    # ours) while the upstream tarball is there: unpack that one, checked
    # against the sha256 the signed .dsc lists. The Debian patches are then not
    # applied; the WebAssembly build of such a package must not rely on them.
    local orig dsc; orig="$(ls "$tmp"/*.orig.tar.* 2>/dev/null | head -1)"; dsc="$(ls "$tmp"/*.dsc 2>/dev/null | head -1)"
    [[ -n "$orig" && -n "$dsc" ]] || fail "apt-get source $name"
    local want; want="$(awk '/^Checksums-Sha256:/{f=1;next} /^[^ ]/{f=0} f && $3 ~ /orig\.tar/ {print $1}' "$dsc")"
    [[ -n "$want" && "$(sha256sum "$orig" | cut -d' ' -f1)" == "$want" ]] || fail "apt-get source $name: upstream tarball does not match its .dsc"
    say "$name: Debian's patch tarball unavailable; using the checked upstream tarball"
    (cd "$tmp" && tar xf "$orig") || fail "unpacking $orig"
  fi
  local top; top="$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -1)"
  [[ -n "$top" ]] || fail "apt-get source $name unpacked nothing"
  rm -rf "$dest"; mv "$top" "$dest"; rm -rf "$tmp"
  touch "$dest/.ok"
}
fetch_source imgui
fetch_source sentencepiece
fetch_source libharu
[[ -f "$CACHE/src/imgui/imgui.cpp" ]] || fail "imgui source has no imgui.cpp"
[[ -f "$CACHE/src/sentencepiece/src/sentencepiece_processor.cc" ]] || fail "sentencepiece source incomplete"
[[ -f "$CACHE/src/libharu/src/hpdf_doc.c" ]] || fail "libharu source has no src/hpdf_doc.c"

# --- ONNX Runtime's C/C++ API headers for the native server ----------------
# The server loads libonnxruntime at run time (the CPU build inside npm's
# onnxruntime-node, or a CUDA build when installed: server/README.md); it needs
# only the API headers to compile. Bookworm has no onnxruntime package, so they
# come from trixie's source package. apt checks the tarball against the signed
# Sources index; only the API headers are unpacked.
fetch_onnxruntime_headers() {
  local dest="$CACHE/src/onnxruntime-headers"
  if [[ -f "$dest/.ok" ]]; then return; fi
  say "fetching ONNX Runtime API headers (Debian trixie source package onnxruntime)"
  local apt="$CACHE/apt-src-trixie"
  mkdir -p "$apt/lists/partial"
  echo "deb-src http://deb.debian.org/debian trixie main" >"$apt/sources.list"
  local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache")
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || fail "apt-get update for the trixie deb-src list"
  local tmp; tmp="$(mktemp -d)"
  # The .dsc and debian.tar are not needed (and some mirrors lack them): a
  # failed fetch of those is fine as long as apt verified the upstream tarball.
  (cd "$tmp" && apt-get "${opts[@]}" source --download-only -qq onnxruntime >/dev/null 2>&1) || true
  local orig; orig="$(ls "$tmp"/onnxruntime_*.orig.tar.* 2>/dev/null | head -1)"
  [[ -n "$orig" ]] || fail "apt-get source onnxruntime (trixie) fetched no upstream tarball"
  rm -rf "$dest"; mkdir -p "$dest"
  tar xf "$orig" -C "$dest" --strip-components=1 --wildcards \
    '*/include/onnxruntime/core/session/onnxruntime_*.h' \
    '*/include/onnxruntime/core/providers/cuda/cuda_provider_options.h' \
    || fail "unpacking ONNX Runtime headers from $orig"
  rm -rf "$tmp"
  [[ -f "$dest/include/onnxruntime/core/session/onnxruntime_cxx_api.h" ]] || fail "ONNX Runtime headers incomplete"
  touch "$dest/.ok"
}
fetch_onnxruntime_headers

# --- npm packages pinned in package-lock.json ------------------------------
if [[ -f "$ROOT/package-lock.json" ]]; then
  stamp="$ROOT/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$ROOT/package-lock.json" -nt "$stamp" ]]; then
    say "installing npm packages"
    (cd "$ROOT" && ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund --loglevel=error >"$CACHE/npm.log" 2>&1) \
      || { tail -20 "$CACHE/npm.log" >&2; fail "npm ci (log: $CACHE/npm.log)"; }
  fi
fi

# --- optional: ONNX Runtime's CUDA build for the server ---------------------
# Only with `scripts/setup.sh --with-cuda` or ES_WITH_CUDA=1 (about 290 MB from
# the npm registry, never by default). ONNX Runtime 1.29 for Linux x64: the
# CUDA 13 provider libraries from asus4's onnxruntime-unity GPU package, and,
# because that project's own Linux libonnxruntime.so is a CPU-only build, the
# CUDA-enabled libonnxruntime.so.1 of onnxruntime-node of the same version
# (providers and core must be one release). Each tarball is checked against
# the sha512 integrity pinned here (the registry's); only those libraries are
# kept, in .cache/onnxruntime-cuda/lib, where server/onnx/onnx_runtime.cpp
# looks first (it falls back to the newer CPU build when CUDA cannot start).
# The CUDA 13 runtime, cuBLAS, cuDNN 9 and an NVIDIA driver must come from the
# machine; without them the server says which is missing and runs on the CPU.
ORT_CUDA_VERSION="1.29.0"
ORT_CUDA_PACKAGES=(
  "onnxruntime-node@1.29.0 sha512-WjiVVB72riILz8HbYvxvmjKyE/WmkYoSfKY++axo5jAR609HQg8MwiG/HhShpTcJfmmAdzxxmB+MMST3A+SiPA== package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
  "com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 sha512-FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w== package/Plugins/Linux/x64/libonnxruntime_providers_*.so"
)
install_onnxruntime_cuda() {
  local dest="$CACHE/onnxruntime-cuda"
  if [[ -f "$dest/.ok-$ORT_CUDA_VERSION" ]]; then return; fi
  say "fetching ONNX Runtime $ORT_CUDA_VERSION with the CUDA provider (npm, about 290 MB)"
  local tmp; tmp="$(mktemp -d)"
  rm -rf "$dest"; mkdir -p "$dest/lib"
  local entry spec integrity files tgz got
  for entry in "${ORT_CUDA_PACKAGES[@]}"; do
    read -r spec integrity files <<<"$entry"
    rm -rf "${tmp:?}"/*
    (cd "$tmp" && npm pack --silent --loglevel=error "$spec" >/dev/null) \
      || { rm -rf "$tmp"; fail "npm pack $spec"; }
    tgz="$(ls "$tmp"/*.tgz 2>/dev/null | head -1)"
    [[ -n "$tgz" ]] || { rm -rf "$tmp"; fail "npm pack $spec fetched nothing"; }
    got="sha512-$(/usr/bin/python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$tgz")"
    [[ "$got" == "$integrity" ]] || { rm -rf "$tmp"; fail "$spec: the download does not match the pinned integrity"; }
    tar xzf "$tgz" -C "$tmp" --wildcards "$files" || { rm -rf "$tmp"; fail "unpacking $files from $spec"; }
    cp "$tmp"/$files "$dest/lib/"
  done
  rm -rf "$tmp"
  mv "$dest/lib/libonnxruntime.so.1" "$dest/lib/libonnxruntime.so"
  [[ -f "$dest/lib/libonnxruntime.so" && -f "$dest/lib/libonnxruntime_providers_cuda.so" ]] \
    || fail "the ONNX Runtime $ORT_CUDA_VERSION packages had no libonnxruntime.so / libonnxruntime_providers_cuda.so"
  touch "$dest/.ok-$ORT_CUDA_VERSION"
  say "ONNX Runtime CUDA build in $dest/lib (the server takes it when a GPU and CUDA 13 are present)"
}
ES_WITH_CUDA="${ES_WITH_CUDA:-0}"
for arg in "$@"; do [[ "$arg" == "--with-cuda" ]] && ES_WITH_CUDA=1; done
if [[ "$ES_WITH_CUDA" == 1 ]]; then install_onnxruntime_cuda; fi
