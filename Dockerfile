# syntax=docker/dockerfile:1
#
# Portcullis image: the static controller on an official HAProxy LTS image. The controller starts
# and supervises haproxy (master-worker) itself; there is no s6 or other supervisor.
#
#   docker build -t portcullis:dev .        (or: buildah bud -t portcullis:dev .)
#   docker run --rm portcullis:dev --help
#
# The build step is the Makefile's `build` target command. The default base is HAProxy 3.0, the LTS
# branch that `make test` runs every test on (3.0.11, built from Debian trixie's source); the unit
# tests and an e2e smoke set also run on 2.6. HAPROXY_IMAGE may point at another official haproxy
# image of 2.6 or later (documentation/image.md says what was checked on 3.2).

ARG GO_IMAGE=docker.io/library/golang:1.26
ARG HAPROXY_IMAGE=docker.io/library/haproxy:3.0

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY pkg/ pkg/
RUN CGO_ENABLED=0 go build -trimpath -o /controller ./cmd/controller

FROM ${HAPROXY_IMAGE}
# The official image runs as its "haproxy" user; packages and the user below need root.
USER root
# tini reaps haproxy workers orphaned by a master that died (the controller is PID 1 otherwise);
# socat lets an operator talk to haproxy's runtime API (documentation/troubleshooting.md).
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends tini socat; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 1000 portcullis; \
    useradd --system --uid 1000 --gid 1000 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin portcullis
COPY fs/ /
COPY --from=build /controller /usr/local/bin/controller
RUN set -eux; \
    find /etc/portcullis /run/portcullis -name .keep -delete; \
    chown 1000:1000 /etc/portcullis /run/portcullis; \
    chmod 0755 /usr/local/bin/portcullis-entrypoint /usr/local/bin/controller; \
    haproxy -v
USER 1000:1000
# The official haproxy image stops with SIGUSR1; the controller drains on SIGTERM.
STOPSIGNAL SIGTERM
# http, https, controller (/healthz, /readyz, /metrics)
EXPOSE 8080 8443 6060 1024 1042
ENTRYPOINT ["/usr/local/bin/portcullis-entrypoint"]
