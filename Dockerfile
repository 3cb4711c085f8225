# syntax=docker/dockerfile:1
# cirelay as a ~2 MB image: the static binary alone, FROM scratch, for linux/amd64 and
# linux/arm64.
#
#   docker build -t cirelay .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/OWNER/cirelay .
#   docker run --rm -e CODESHIP_API_KEY -e CODESHIP_API_PROJECT_ID -e CODESHIP_API_BRANCH \
#       --entrypoint codeship_restart_build cirelay
#
# The builder runs scripts/build-static.sh, the same script CI runs, so the image holds the
# binary that CI tested (same target, same --locked lock file, same C compiler for ring). It
# runs on the machine's own platform ($BUILDPLATFORM) and cross-compiles for each platform
# asked for ($TARGETARCH), because the script can build either target from either machine:
# no stage runs under emulation, and the final stage only copies files.

FROM --platform=$BUILDPLATFORM rust:1.95.0-bookworm AS build
ARG TARGETARCH
WORKDIR /src
COPY . .
RUN case "$TARGETARCH" in \
        amd64) target=x86_64-unknown-linux-musl ;; \
        arm64) target=aarch64-unknown-linux-musl ;; \
        *) echo "cirelay has no build for linux/$TARGETARCH (linux/amd64, linux/arm64)" >&2; exit 1 ;; \
    esac \
 && scripts/build-static.sh "$target" \
 && mkdir -p /out/usr/local/bin \
 && cp "target/$target/release/cirelay" /out/usr/local/bin/cirelay \
 && ln -s cirelay /out/usr/local/bin/codeship_restart_build \
 && ln -s cirelay /out/usr/local/bin/codefresh

FROM scratch
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/cirelay/cirelay
LABEL org.opencontainers.image.title="cirelay" \
      org.opencontainers.image.description="Trigger, follow, stop and restart builds on Codeship, Codefresh, CircleCI, GitHub Actions and GitLab from a CI step" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.base.name="scratch"
COPY --from=build /out/ /
# No shell here: steps call the binary by one of its names (cirelay, codefresh, codeship_restart_build).
ENV PATH=/usr/local/bin
# No USER: CI systems run a step's image as it is and hand it files to write that belong to
# root (Codefresh's shared volume with env_vars_to_export, GitHub Actions' GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY for `uses: docker://…`, whose docs ask for the default user). cirelay
# itself needs no privilege: `docker run --user 65532:65532 …` works where nothing is exported.
ENTRYPOINT ["/usr/local/bin/cirelay"]
