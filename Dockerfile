# Optline portal: a static binary on a minimal base, run as non-root.
# Build: docker build -t optline .
# Run:   docker run -p 8080:8080 -v optline-data:/data optline
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/portal ./cmd/portal \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portal /portal
COPY --from=build --chown=65532:65532 /out/data /data
ENV PORTAL_ADDR=0.0.0.0:8080 \
    PORTAL_DATA_DIR=/data \
    PORTAL_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["/portal", "-healthcheck"]
ENTRYPOINT ["/portal"]
