FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/deep-review .

FROM alpine
RUN apk add --no-cache git ca-certificates
COPY --from=build /out/deep-review /usr/local/bin/deep-review
ENTRYPOINT ["/usr/local/bin/deep-review"]
