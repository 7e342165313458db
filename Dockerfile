# syntax=docker/dockerfile:1
# The notify service: one static binary (CGO_ENABLED=0; pure-Go SQLite and
# time zones embedded), run as a non-root user on a distroless image.
#
#   docker build -t notify .
#   docker run -p 8080:8080 notify            # SQLite demo with the bundled fake sender
#
# ops_test.go builds the binary with the exact `go build` line below.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/notify .

# A writable home for the default SQLite file (./data/notify.db), owned by
# the nonroot user (65532) of the final image.
RUN mkdir -p /out/home/data && chown -R 65532:65532 /out/home

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/notify /usr/local/bin/notify
COPY --from=build --chown=65532:65532 /out/home /home/nonroot
USER 65532:65532
WORKDIR /home/nonroot
ENV LISTEN_ADDR=:8080
EXPOSE 8080
# SIGTERM starts the graceful shutdown (SHUTDOWN_TIMEOUT, 30s by default).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/notify"]
CMD ["serve"]
