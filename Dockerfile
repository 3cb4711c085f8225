# syntax=docker/dockerfile:1
# cirelay as a ~2 MB image: the static binary alone, FROM scratch.
#
#   docker build -t cirelay .
#   docker run --rm -e CODESHIP_API_KEY -e CODESHIP_API_PROJECT_ID -e CODESHIP_API_BRANCH \
#       --entrypoint codeship_restart_build cirelay
#
# The builder runs scripts/build-static.sh, the same script CI runs, so the image holds the
# binary that CI tested (same target, same --locked lock file, same musl-gcc for ring).

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/build-static.sh \
 && mkdir -p /out/usr/local/bin \
 && cp target/x86_64-unknown-linux-musl/release/cirelay /out/usr/local/bin/cirelay \
 && ln -s cirelay /out/usr/local/bin/codeship_restart_build \
 && ln -s cirelay /out/usr/local/bin/codefresh

FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="cirelay" \
      org.opencontainers.image.description="Trigger, wait on, stop and restart builds on Codeship, Codefresh and CircleCI from a CI step" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.base.name="scratch"
COPY --from=build /out/ /
# No shell here: steps call the binary by one of its names (cirelay, codefresh, codeship_restart_build).
ENV PATH=/usr/local/bin
# nobody-style user: cirelay needs no privileges.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cirelay"]
