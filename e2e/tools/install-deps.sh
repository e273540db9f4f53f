#!/usr/bin/env bash
# Installs or builds everything the tests need, idempotently:
#   - haproxy (Debian's package, 2.6 on bookworm) when no haproxy is on PATH;
#   - haproxy3: HAProxy $HAPROXY3_VERSION (an LTS branch) built from the upstream tarball that
#     Debian trixie's source package ships, into $PORTCULLIS_BIN/haproxy-<version>/haproxy (the
#     binary keeps the name haproxy: tests and the controller recognise processes by it). The
#     tarball is found through a private apt configuration (the machine's sources are untouched),
#     checked against the pin below, and the build dependencies come from the machine's apt;
#   - etcd and kube-apiserver, built from the Go module proxy at pinned versions into
#     $PORTCULLIS_BIN (default: <repo>/.cache/bin, git-ignored). A binary whose --version matches the
#     pin is reused; Go's own build cache makes a rebuild in a fresh clone take seconds;
#   - helm, built the same way into the same directory, for the chart tests;
#   - golangci-lint, built the same way into the same directory, for `make lint`;
#   - for the Gateway API conformance harness (e2e/conformance): kube-controller-manager at the
#     same version as kube-apiserver, built the same way; kwok $KWOK_VERSION (the simulated node);
#     echo-basic, the suite's own echo server, built from the source in the module
#     sigs.k8s.io/gateway-api/conformance at the version go.mod requires, into
#     $PORTCULLIS_BIN/echo-basic-<version>/echo-basic.
#
# Usage: install-deps.sh [haproxy|haproxy3|etcd|kube-apiserver|kube-controller-manager|kwok|echo-basic|helm|golangci-lint]...
# With no argument it installs everything; with arguments, only those (`make lint` asks for
# golangci-lint alone). Any failure is an error: nothing is skipped.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.10}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
GOLANGCI_LINT_VERSION=${GOLANGCI_LINT_VERSION:-v2.15.0}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
# The upstream tarball as Debian trixie ships it (haproxy_<version>.orig.tar.gz, the same in every
# Debian revision of that version); apt checks it against the signed index, and the script against
# this pin.
HAPROXY3_VERSION=${HAPROXY3_VERSION:-3.0.11}
HAPROXY3_SHA256=${HAPROXY3_SHA256:-a133e2d550c5fd9a849b5c7ab17bb945bcdad209ca140d41f45ebf31943ae783}
HAPROXY3_SUITES=${HAPROXY3_SUITES:-"debian trixie main|debian-security trixie-security main"}

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PORTCULLIS_BIN:-$root/.cache/bin}
mkdir -p "$bin"

log() { printf 'install-deps: %s\n' "$*" >&2; }

# output runs a command and prints its standard output, or nothing if it fails. Version checks
# read it rather than a pipe into `grep -q` or `head`: those exit at the first match, the command
# then dies of SIGPIPE, and pipefail turns a match into a failure (a rebuild, or an abort).
output() { "$@" 2>/dev/null || true; }

# first_line prints the first line of its argument.
first_line() { printf '%s\n' "${1%%$'\n'*}"; }

# apt_install installs Debian packages from the machine's own apt sources.
apt_install() {
  log "installing $* from Debian"
  # Keep apt from starting a system-wide haproxy service on port 80.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1; fi
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  [ $created -eq 1 ] && rm -f "$policy"
  # A package install may still have started the service on some systems; we never want it.
  if command -v service >/dev/null; then $sudo service haproxy stop >/dev/null 2>&1 || true; fi
}

ensure_apt() {
  local missing=()
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  command -v openssl >/dev/null || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_install "${missing[@]}"
}

# haproxy3_bin is where build_haproxy3 puts the binary.
haproxy3_bin() { printf '%s/haproxy-%s/haproxy' "$bin" "$HAPROXY3_VERSION"; }

build_haproxy3() {
  local out; out=$(haproxy3_bin)
  # `-v` prints "HAProxy version 3.0.11-<commit> <date> - https://haproxy.org/".
  if [ -x "$out" ] && grep -qE "^HAProxy version ${HAPROXY3_VERSION//./\\.}[- ]" <<<"$(first_line "$(output "$out" -v)")"; then
    return 0
  fi
  local missing=() pkg
  for pkg in gcc make libc6-dev libssl-dev libpcre2-dev liblua5.4-dev; do
    [[ $(output dpkg-query -W -f='${Status}' "$pkg") == *"ok installed" ]] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  log "building haproxy $HAPROXY3_VERSION from Debian's source package ($HAPROXY3_SUITES; first time: a few minutes)"
  local work; work=$(mktemp -d)
  haproxy3_work=$work
  trap 'rm -rf "${haproxy3_work:-}"' EXIT
  # A private apt configuration: deb-src lines for trixie, its own index and cache directories.
  local suites suite dir dist comp
  IFS='|' read -ra suites <<<"$HAPROXY3_SUITES"
  for suite in "${suites[@]}"; do
    read -r dir dist comp <<<"$suite"
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/%s %s %s\n' "$dir" "$dist" "$comp"
  done >"$work/sources.list"
  mkdir -p "$work/lists" "$work/cache" "$work/src"
  local opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
  apt-get -q "${opts[@]}" update >"$work/apt-update.log" 2>&1 ||
    { cat "$work/apt-update.log" >&2; log "apt-get update (trixie deb-src, private configuration) failed"; exit 1; }
  # Every Debian revision of the pinned upstream version carries the same orig tarball, and only
  # that file is needed (not the .dsc nor Debian's patches), so it is downloaded alone: apt-get
  # prints its address and the SHA256 from the signed index, apt-helper downloads and checks it.
  local versions debver
  versions=$(apt-cache "${opts[@]}" showsrc haproxy | sed -n 's/^Version: //p')
  debver=$(grep -E "^${HAPROXY3_VERSION//./\\.}-" <<<"$versions" | tail -1) || {
    log "trixie's sources hold no haproxy $HAPROXY3_VERSION (they have: $(tr '\n' ' ' <<<"$versions")): update HAPROXY3_VERSION and HAPROXY3_SHA256"
    exit 1
  }
  local tarball="haproxy_$HAPROXY3_VERSION.orig.tar.gz" uri="" sum=""
  read -r uri sum < <(apt-get -qq "${opts[@]}" --print-uris source "haproxy=$debver" |
    awk -v f="$tarball" '$2 == f {gsub("\x27", "", $1); print $1, $4}') || true
  if [ "$sum" != "SHA256:$HAPROXY3_SHA256" ]; then
    log "haproxy $debver: $tarball has ${sum:-no SHA256} in trixie's index, want SHA256:$HAPROXY3_SHA256"
    exit 1
  fi
  # apt downloads as its unprivileged _apt user when there is one: give it the directory.
  mkdir -p "$work/dl"
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chmod 755 "$work"; chown _apt "$work/dl"; fi
  /usr/lib/apt/apt-helper -q download-file "$uri" "$work/dl/$tarball" "$sum" >&2
  echo "$HAPROXY3_SHA256  $work/dl/$tarball" | sha256sum -c --quiet
  tar -xzf "$work/dl/$tarball" -C "$work/src" --strip-components=1
  # The options of the official haproxy image and of Debian's package that the tests need: OpenSSL,
  # PCRE2 with JIT, Lua 5.4, the Prometheus exporter. No QUIC (it needs a QUIC-capable TLS library).
  make -C "$work/src" -j"$(nproc)" TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 USE_PCRE2_JIT=1 \
    USE_LUA=1 LUA_INC=/usr/include/lua5.4 LUA_LIB_NAME=lua5.4 USE_PROMEX=1 >"$work/make.log" 2>&1 ||
    { tail -40 "$work/make.log" >&2; log "building haproxy $HAPROXY3_VERSION failed"; exit 1; }
  local built; built=$(first_line "$(output "$work/src/haproxy" -v)")
  grep -qE "^HAProxy version ${HAPROXY3_VERSION//./\\.}[- ]" <<<"$built" ||
    { log "the built haproxy reports \"$built\", not $HAPROXY3_VERSION"; exit 1; }
  mkdir -p "$(dirname "$out")"
  mv "$work/src/haproxy" "$out.new"; mv "$out.new" "$out"
}

build_etcd() {
  if [ -x "$bin/etcd" ] && grep -q "etcd Version: ${ETCD_VERSION#v}" <<<"$(output "$bin/etcd" --version)"; then return 0; fi
  log "building etcd $ETCD_VERSION (first time: a few minutes)"
  local work; work=$(mktemp -d)
  (cd "$work" && go mod init tmp/etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/etcd.new" go.etcd.io/etcd/server/v3)
  mv "$bin/etcd.new" "$bin/etcd"; rm -rf "$work"
}

# build_kube builds one command of k8s.io/kubernetes (kube-apiserver, kube-controller-manager) at
# $K8S_VERSION, with the version stamps of the upstream release build.
build_kube() {
  local cmd=$1
  if [ -x "$bin/$cmd" ] && grep -qx "Kubernetes $K8S_VERSION" <<<"$(output "$bin/$cmd" --version)"; then return 0; fi
  log "building $cmd $K8S_VERSION (first time: 10+ minutes on two cores)"
  local work; work=$(mktemp -d)
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local patch=${K8S_VERSION##*.}
  local staging="v0.$minor.$patch"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module tmp/$cmd"
    echo
    grep -E '^go [0-9]' "$gomod"
    grep -E '^godebug' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" |
      awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  local x="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  x="$x -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  (cd "$work" && go get "k8s.io/kubernetes/cmd/$cmd@$K8S_VERSION" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $x" -o "$bin/$cmd.new" "k8s.io/kubernetes/cmd/$cmd")
  mv "$bin/$cmd.new" "$bin/$cmd"; rm -rf "$work"
}

build_kwok() {
  # `--version` prints "kwok version v0.8.0 go1.26.8 (linux/amd64)".
  if [ -x "$bin/kwok" ] && grep -q "kwok version $KWOK_VERSION " <<<"$(output "$bin/kwok" --version)"; then return 0; fi
  log "building kwok $KWOK_VERSION (first time: about 5 minutes)"
  local work; work=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$work" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  local built; built=$(first_line "$(output "$work/kwok" --version)")
  grep -q "kwok version $KWOK_VERSION " <<<"$built" || { log "the built kwok reports \"$built\", not $KWOK_VERSION"; exit 1; }
  mv "$work/kwok" "$bin/kwok"; rm -rf "$work"
}

# echo_basic_bin prints where build_echo_basic puts echo-basic: a directory named after the
# version of sigs.k8s.io/gateway-api/conformance that go.mod requires, which e2e/conformance finds
# from its own build information.
echo_basic_version() { (cd "$root" && go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api/conformance); }
echo_basic_bin() { printf '%s/echo-basic-%s/echo-basic' "$bin" "$(echo_basic_version)"; }

build_echo_basic() {
  local out; out=$(echo_basic_bin)
  [ -x "$out" ] && return 0
  local version; version=$(echo_basic_version)
  log "building echo-basic from sigs.k8s.io/gateway-api/conformance@$version"
  local src; src=$(cd "$root" && go mod download -json "sigs.k8s.io/gateway-api/conformance@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -f "$src/echo-basic/.go.mod" ] || { log "no echo-basic/.go.mod in $src"; exit 1; }
  local work; work=$(mktemp -d)
  # The module zip keeps echo-basic's own module file as .go.mod (a go.mod would cut the directory
  # out of the conformance module): restore the names.
  cp -r "$src/echo-basic/." "$work/"
  chmod -R u+w "$work"
  mv "$work/.go.mod" "$work/go.mod"; mv "$work/.go.sum" "$work/go.sum"
  mkdir -p "$(dirname "$out")"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.new" .)
  mv "$out.new" "$out"; rm -rf "$work"
}

build_golangci_lint() {
  # `--version` prints "golangci-lint has version 2.15.0 built with go1.26.8 from ...".
  if [ -x "$bin/golangci-lint" ] &&
    grep -q "has version ${GOLANGCI_LINT_VERSION#v} " <<<"$(output "$bin/golangci-lint" --version)"; then
    return 0
  fi
  log "building golangci-lint $GOLANGCI_LINT_VERSION"
  local work; work=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$work" go install -trimpath "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
  mv "$work/golangci-lint" "$bin/golangci-lint"; rm -rf "$work"
}

build_helm() {
  if [ -x "$bin/helm" ] && [ "$("$bin/helm" version --short 2>/dev/null)" = "$HELM_VERSION" ]; then return 0; fi
  log "building helm $HELM_VERSION"
  # Stamp what helm's own Makefile stamps: go install alone leaves the version at "v3.22" and the
  # default Kubernetes version (helm template, helm lint) at 1.20.
  local gomod minor work
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  minor=$(awk '$1 == "k8s.io/client-go" {split($2, v, "."); print v[2]}' "$gomod")
  local x="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in pkg/lint/rules pkg/chartutil; do
    x="$x -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$minor"
  done
  work=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$work" go install -trimpath -ldflags "-s -w $x" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$work/helm" "$bin/helm"; rm -rf "$work"
}

all=(haproxy haproxy3 etcd kube-apiserver kube-controller-manager kwok echo-basic helm golangci-lint)
[ $# -gt 0 ] || set -- "${all[@]}"
for dep in "$@"; do
  case " ${all[*]} " in
    *" $dep "*) ;;
    *) log "unknown dependency $dep (want one of: ${all[*]})"; exit 2 ;;
  esac
done
ready=()
for dep in "$@"; do
  case $dep in
    haproxy) ensure_apt; ready+=("haproxy $(first_line "$(output haproxy -v)" | awk '{print $3}')") ;;
    haproxy3) build_haproxy3; ready+=("$(haproxy3_bin) $(first_line "$(output "$(haproxy3_bin)" -v)" | awk '{print $3}')") ;;
    etcd) build_etcd; ready+=("etcd $ETCD_VERSION") ;;
    kube-apiserver) build_kube kube-apiserver; ready+=("kube-apiserver $K8S_VERSION") ;;
    kube-controller-manager) build_kube kube-controller-manager; ready+=("kube-controller-manager $K8S_VERSION") ;;
    kwok) build_kwok; ready+=("kwok $KWOK_VERSION") ;;
    echo-basic) build_echo_basic; ready+=("$(echo_basic_bin)") ;;
    helm) build_helm; ready+=("helm $HELM_VERSION") ;;
    golangci-lint) build_golangci_lint; ready+=("golangci-lint $GOLANGCI_LINT_VERSION") ;;
  esac
done
log "ready: $(printf '%s, ' "${ready[@]}" | sed 's/, $//') in $bin"
