# Sourced by scripts/test, scripts/demo and scripts/bench: installs what is missing, quietly and idempotently.
# Debian packages only; the benchmark's peer engines come from PyPI into .venv (scripts/bench does that).

BEAUTIFY_APT_PACKAGES=(
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev googletest libgtest-dev
  libeigen3-dev libdlib-dev libdlib-data libpng-dev libjpeg-dev liblapack-dev libblas-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd
  python3 python3-numpy python3-venv python3-torch python3-pil python3-gi gir1.2-gstreamer-1.0 gcc
  libjson-glib-dev zlib1g-dev clang-format cppcheck
  python3-matplotlib python3-opencv libobs-dev obs-studio libx11-dev xvfb xauth
)

beautify_install_deps() {
  local missing=()
  for p in "${BEAUTIFY_APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures (once) and builds the release tree in build/.
beautify_build() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ ! -f "$root/build/build.ninja" ]; then
    meson setup "$root/build" "$root" "$@" >/dev/null
  fi
  ninja -C "$root/build" >/dev/null
}
