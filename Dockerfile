# syntax=docker/dockerfile:1
# Build a static binary on the build machine's own platform (cross-compiling,
# so an arm64 release does not run Go under emulation), then ship it with
# git and CA certificates only.
# Base images are pinned by the digest of their multi-arch index (the tag
# stays for the reader); bump both together.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm@sha256:551752d3ad9de9923190bf5280500617ed8fee287ffb4b0220e770ef89346258 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/deep-review .

FROM alpine:3.22@sha256:365499d9dccb7c8cfaffef995a6c382e71174585e0556f6476ead1c5971c39fb
RUN apk add --no-cache git ca-certificates
COPY --from=build /out/deep-review /usr/local/bin/deep-review
ENTRYPOINT ["/usr/local/bin/deep-review"]
