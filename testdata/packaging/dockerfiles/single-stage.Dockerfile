# one stage: builds and ships in the same image
FROM golang:1.26-bookworm
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /usr/local/bin/deep-review . && apt-get install -y git ca-certificates
ENTRYPOINT ["/usr/local/bin/deep-review"]
