# syntax=docker/dockerfile:1
# Build a static binary, then ship it with git and CA certificates only.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/deep-review .

FROM alpine:3.22
RUN apk add --no-cache git ca-certificates
COPY --from=build /out/deep-review /usr/local/bin/deep-review
ENTRYPOINT ["/usr/local/bin/deep-review"]
