# kthena-sim in a container: built with the locked dependencies, run as a non-root user from
# a folder that holds the shipped scenarios, policies, traces and example manifests, so that
# `run scenarios/spike.yaml` works as it does from a clone.
#
#   docker build -t kthena-sim .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD/out:/out" \
#       kthena-sim run scenarios/spike.yaml --out /out/spike
#
# scripts/docker-check builds the image and runs exactly that.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# The whole context (.dockerignore keeps out target/, output/, .git, tests and fuzzing):
# Cargo.toml names the benches, and the charts embed assets/fonts at compile time.
COPY . .
RUN cargo build --release --locked && cp target/release/kthena-sim /kthena-sim

FROM debian:bookworm-slim
# The binary links only glibc (no OpenSSL, no system fonts): nothing to install.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /opt/kthena-sim \
        --shell /usr/sbin/nologin kthena-sim
COPY --from=build /kthena-sim /usr/local/bin/kthena-sim
# The scenarios name their manifests and traces by paths relative to themselves
# (../policies/…, ../traces/…, ../examples/manifests/…): the four folders keep their places.
COPY scenarios /opt/kthena-sim/scenarios
COPY policies /opt/kthena-sim/policies
COPY traces /opt/kthena-sim/traces
COPY examples /opt/kthena-sim/examples
WORKDIR /opt/kthena-sim
# Root owns the shipped files (read-only to the user). Results go to a mounted folder: an
# `--out` under /opt/kthena-sim is not writable by design.
USER kthena-sim
ENTRYPOINT ["kthena-sim"]
CMD ["--help"]
