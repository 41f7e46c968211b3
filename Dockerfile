# certgate container image: a static binary on distroless, run as nonroot.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t certgate .
#   docker run -d -p 8080:8080 -p 8443:8443 -v certgate-data:/var/lib/certgate \
#     -e CERTGATE_PUBLIC_URL=http://scep.example.com:8080 certgate
#
# Not built in CI (see README.md, Docker).

# The image tag must provide go.mod's go version (official images set
# GOTOOLCHAIN=local, so an older Go would refuse to build).
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO off: a static binary is all distroless/static can run.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/certgate ./cmd/certgate
# The data directory, owned by distroless' nonroot user (65532): a named
# volume is seeded from the image, ownership included, so serve can write
# to it. COPY --from keeps the owner and mode of what it copies, but not of
# the source directory itself, hence the extra level (varlib/certgate).
RUN mkdir -p /out/varlib/certgate \
    && chown 65532:65532 /out/varlib/certgate \
    && chmod 0700 /out/varlib/certgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/certgate /usr/local/bin/certgate
COPY --from=build /out/varlib/ /var/lib/
ENV CERTGATE_DATA_DIR=/var/lib/certgate \
    CERTGATE_LISTEN=:8080 \
    CERTGATE_EST_LISTEN=:8443
VOLUME /var/lib/certgate
EXPOSE 8080 8443
USER nonroot
# No HEALTHCHECK: distroless has no shell or curl. Orchestrators should
# probe GET /healthz (liveness) and GET /readyz (readiness) instead.
ENTRYPOINT ["/usr/local/bin/certgate"]
CMD ["serve"]
