# xrepl's emulator (S3, IAM, STS, KMS for several accounts on one port) as a FROM-scratch image.
#
# Nothing is pulled: the image is the statically linked `xrepl` binary and nothing else, so it
# builds on machines without a registry. Build the binary first, then the image:
#
#   cargo build --release       # static: .cargo/config.toml sets the target and crt-static
#   docker build -t xrepl-emulator:local .
#
# or simply `scripts/build-image.sh` (also when CARGO_TARGET_DIR points outside the repo: it stages
# the binary under target/docker/ and passes XREPL_BINARY). See docs/containers.md.
#
# Keys are LocalStack-style: access key id = the 12-digit account id, secret `test`.
FROM scratch

ARG XREPL_BINARY=target/x86_64-unknown-linux-gnu/release/xrepl
COPY ${XREPL_BINARY} /xrepl

LABEL org.opencontainers.image.title="xrepl-emulator" \
      org.opencontainers.image.description="AWS-faithful multi-account S3+IAM+STS+KMS emulator with cross-account replication" \
      org.opencontainers.image.licenses="Apache-2.0"

# A data dir the unprivileged user owns (COPY --chown creates /data with that owner), so a volume
# mounted there is writable: `docker run -v xrepl-data:/data ... --data-dir /data` keeps state
# across restarts (docs/containers.md).
COPY --chown=65534:65534 Dockerfile /data/.xrepl-data-dir

# No /etc/passwd in scratch: a numeric unprivileged user. 4566 needs no privileges.
USER 65534:65534
EXPOSE 4566

# Docker 20.10 has no --start-interval; a 1 s interval keeps start-to-healthy short and costs
# one tiny exec per second.
HEALTHCHECK --interval=1s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/xrepl", "health", "--endpoint", "http://127.0.0.1:4566"]

ENTRYPOINT ["/xrepl", "serve", "--host", "0.0.0.0", "--port", "4566"]
# Accounts created at start (any other 12-digit access key id creates its account on first use).
CMD ["--account", "111111111111", "--account", "222222222222"]
