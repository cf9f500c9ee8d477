# Shared by scripts/*.sh: installing what Drover needs on Debian 12, and building it.
# Sourced, not run. Everything here is idempotent.

DROVER_ROOT=${DROVER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# Debian packages the build, the tests and the embedded default need.
DROVER_APT_PACKAGES=(
  build-essential cmake pkg-config git curl jq ca-certificates procps iproute2
  libwebsockets-dev libwebsockets-evlib-ev libev-dev libjansson-dev libpq-dev libcurl4-openssl-dev
  libssl-dev libyaml-dev
  check libsubunit-dev
  postgresql postgresql-contrib postgresql-common
  clang clang-format libclang-rt-14-dev python3
  prometheus chromium python3-yaml openssl valgrind
  bubblewrap haproxy mmdebstrap
)

drover_log() { printf '==> %s\n' "$*" >&2; }

# Install the packages above that are missing (apt-get only when something is missing).
drover_deps() {
  local missing=() p
  for p in "${DROVER_APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # Node and npm may come from the machine image rather than Debian's packages: check commands.
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  # kubectl comes with the machine image; Debian's older client is the fallback.
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    drover_log "missing packages: ${missing[*]} (run as root, or install them)"
    return 1
  fi
  drover_log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configure and build into $1 with extra CMake arguments.
drover_build() {
  local dir=$1; shift
  cmake -S "$DROVER_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)" -- --no-print-directory >/dev/null
}
