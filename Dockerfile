# syntax=docker/dockerfile:1
# Build a static binary on the build machine's own platform (cross-compiling,
# so an arm64 release does not run Go under emulation), then ship it with
# git and CA certificates only.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/deep-review .

FROM alpine:3.22
RUN apk add --no-cache git ca-certificates
COPY --from=build /out/deep-review /usr/local/bin/deep-review
ENTRYPOINT ["/usr/local/bin/deep-review"]
