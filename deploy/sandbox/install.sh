#!/usr/bin/env bash
# Installs what the agent sandbox needs (docs/sandbox.md): bubblewrap for the namespaces,
# util-linux for prlimit/setpriv/unshare, and the system python3 the agents run on.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
{ command -v prlimit >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; } || missing+=(util-linux)
[ -x /usr/bin/python3 ] || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  echo "sandbox: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Report whether a sandbox can actually start here (user namespaces may be disabled).
probe_log="$(mktemp)"
if bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --ro-bind / / /bin/true 2>"$probe_log"; then
  echo "sandbox: bubblewrap $(bwrap --version | awk '{print $2}') works"
else
  echo "sandbox: WARNING bubblewrap is installed but cannot start a sandbox here: $(cat "$probe_log")" >&2
fi
rm -f "$probe_log"
