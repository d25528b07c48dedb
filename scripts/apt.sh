# Debian packages the project's scripts need, sourced by package.sh (and fit for test.sh and run.sh).

# apt_install_missing PKG…: install the given packages (the caller has found them missing) from
# Debian; as non-root, say what to install instead. No arguments: nothing to do.
apt_install_missing() {
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing $*; install them (apt-get install $*) or run as root" >&2
    return 1
  fi
  echo "Installing $* from Debian packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
