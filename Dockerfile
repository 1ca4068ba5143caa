# Pycotr node image.
#
#   docker build -t pycotr .
#   docker run --rm -p 3001:3001 pycotr            # one node with an in-process NATS server
#   docker run --rm pycotr status --help           # any other sub-command
#
# Configuration is by PYCOTR_* environment variables (see docs / `pycotr node --help`).
# Needs BuildKit (the default builder since Docker 23) for the cache mounts below.

# ---- Stage 1: build ---------------------------------------------------------
# Compile a static binary (no cgo) with the Go toolchain. The module download
# is its own layer, so editing source does not re-download dependencies, and the
# cache mounts keep the module and build caches between builds.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/pycotr ./cmd/pycotr

# ---- Stage 2: runtime -------------------------------------------------------
# Distroless static: no shell, no package manager, CA certificates and tzdata
# only, and a non-root user (uid 65532, "nonroot").
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pycotr /usr/local/bin/pycotr
WORKDIR /home/nonroot
USER nonroot:nonroot

# Listen on all interfaces inside the container (the binary's default is :3001 too;
# set here so the HEALTHCHECK port below is explicit).
ENV PYCOTR_HTTP_ADDR=:3001

# 3001: HTTP API and dashboard. 4222: NATS clients, used only when the node runs
# its embedded server with PYCOTR_NATS_LISTEN=0.0.0.0:4222.
EXPOSE 3001 4222

# There is no shell or curl in this image, so the binary probes itself:
# `pycotr probe URL` exits 0 when GET URL answers 2xx. If you change
# PYCOTR_HTTP_ADDR, override the health check to match.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/pycotr", "probe", "http://127.0.0.1:3001/readyz"]

ENTRYPOINT ["/usr/local/bin/pycotr"]
CMD ["node"]
