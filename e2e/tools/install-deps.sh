#!/usr/bin/env bash
# Installs or builds everything the tests need, idempotently:
#   - haproxy (Debian's package) when no haproxy is on PATH;
#   - etcd and kube-apiserver, built from the Go module proxy at pinned versions into
#     $PORTCULLIS_BIN (default: <repo>/.cache/bin, git-ignored). A binary whose --version matches the
#     pin is reused; Go's own build cache makes a rebuild in a fresh clone take seconds;
#   - helm, built the same way into the same directory, for the chart tests;
#   - golangci-lint, built the same way into the same directory, for `make lint`.
#
# Usage: install-deps.sh [haproxy|etcd|kube-apiserver|helm|golangci-lint]...
# With no argument it installs everything; with arguments, only those (`make lint` asks for
# golangci-lint alone). Any failure is an error: nothing is skipped.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.10}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
GOLANGCI_LINT_VERSION=${GOLANGCI_LINT_VERSION:-v2.15.0}

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PORTCULLIS_BIN:-$root/.cache/bin}
mkdir -p "$bin"

log() { printf 'install-deps: %s\n' "$*" >&2; }

ensure_apt() {
  local missing=()
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  command -v openssl >/dev/null || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian"
  # Keep apt from starting a system-wide haproxy service on port 80.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1; fi
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $created -eq 1 ] && rm -f "$policy"
  # A package install may still have started the service on some systems; we never want it.
  if command -v service >/dev/null; then $sudo service haproxy stop >/dev/null 2>&1 || true; fi
}

build_etcd() {
  if [ -x "$bin/etcd" ] && "$bin/etcd" --version 2>/dev/null | grep -q "etcd Version: ${ETCD_VERSION#v}"; then return 0; fi
  log "building etcd $ETCD_VERSION (first time: a few minutes)"
  local work; work=$(mktemp -d)
  (cd "$work" && go mod init tmp/etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/etcd.new" go.etcd.io/etcd/server/v3)
  mv "$bin/etcd.new" "$bin/etcd"; rm -rf "$work"
}

build_apiserver() {
  if [ -x "$bin/kube-apiserver" ] && "$bin/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION"; then return 0; fi
  log "building kube-apiserver $K8S_VERSION (first time: 10+ minutes on two cores)"
  local work; work=$(mktemp -d)
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local patch=${K8S_VERSION##*.}
  local staging="v0.$minor.$patch"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module tmp/apiserver"
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
  (cd "$work" && go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $x" -o "$bin/kube-apiserver.new" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$bin/kube-apiserver.new" "$bin/kube-apiserver"; rm -rf "$work"
}

build_golangci_lint() {
  # `--version` prints "golangci-lint has version 2.15.0 built with go1.26.8 from ...".
  if [ -x "$bin/golangci-lint" ] &&
    "$bin/golangci-lint" --version 2>/dev/null | grep -q "has version ${GOLANGCI_LINT_VERSION#v} "; then
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

all=(haproxy etcd kube-apiserver helm golangci-lint)
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
    haproxy) ensure_apt; ready+=("haproxy $(haproxy -v | head -1 | awk '{print $3}')") ;;
    etcd) build_etcd; ready+=("etcd $ETCD_VERSION") ;;
    kube-apiserver) build_apiserver; ready+=("kube-apiserver $K8S_VERSION") ;;
    helm) build_helm; ready+=("helm $HELM_VERSION") ;;
    golangci-lint) build_golangci_lint; ready+=("golangci-lint $GOLANGCI_LINT_VERSION") ;;
  esac
done
log "ready: $(printf '%s, ' "${ready[@]}" | sed 's/, $//') in $bin"
