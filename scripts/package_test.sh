#!/usr/bin/env bash
# Tests the edgefl-node Debian package of each build folder given: makes it
# with cpack, checks its control data and contents, installs it with dpkg into
# a fresh root (the maintainer scripts and the conffile included), checks the
# installed files and modes, then starts the installed node as its systemd
# unit would (the unit's Environment, EnvironmentFile, LoadCredential and
# ExecStart, read from the installed unit), under qemu-user when the package
# is foreign, against this host's edgefl-coordinator with CURVE keys, for a
# short run. Last it installs the package again, removes it and purges it.
#
#   scripts/package_test.sh build-aarch64            # the arm64 package; its node under qemu-aarch64
#   HOST_BUILD=build-test scripts/package_test.sh build-aarch64 build-test
#
# Each build folder must hold a built edgefl-node (cpack installs, it does not
# build). HOST_BUILD [build] is the host build with bin/edgefl-coordinator
# and bin/edgefl (for the keys). OUT [a temporary folder, removed at the
# end] is where the packages, roots and logs go. Runs no systemd, only
# systemd-analyze to check the unit. dpkg runs the maintainer scripts outside a chroot
# (--force-script-chrootless, with DPKG_ROOT set), which is how they are
# written to run in another root: a fresh root has no /bin/sh to chroot to.
set -euo pipefail
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root_dir"
host_build="${HOST_BUILD:-build}"
[ $# -gt 0 ] || { echo "usage: $0 BUILD_DIR..." >&2; exit 2; }
for f in "$host_build/bin/edgefl-coordinator" "$host_build/bin/edgefl"; do
  [ -x "$f" ] || { echo "package_test: $f missing; build the host tree first (HOST_BUILD=...)" >&2; exit 2; }
done
version="$(sed -n 's/^project(edgefl VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
work="${OUT:-$(mktemp -d /tmp/edgefl-package.XXXXXX)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
pids=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${OUT:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "package_test: FAILED: $*" >&2
  exit 1
}

# Runs the installed unit's ExecStart for instance $3 in root $1 ($2: an
# emulator or empty), as systemd would: the Environment= settings, overridden
# by the EnvironmentFile; each LoadCredential copied, mode 400, into
# $CREDENTIALS_DIRECTORY; %i the instance; ${VAR} one word, $VAR split into
# words. Writes the node's output to $4.
run_unit() {
  local root=$1 emulator=$2 id=$3 log=$4
  local unit="$root/lib/systemd/system/edgefl-node@.service"
  local creds="$work/credentials"
  local -A env=()
  local env_files=() exec_start="" line value name path word
  rm -rf "$creds"
  mkdir -m 700 "$creds"
  while IFS= read -r line; do
    case "$line" in
      Environment=*)
        value="${line#Environment=}"
        env["${value%%=*}"]="${value#*=}"
        ;;
      EnvironmentFile=*) env_files+=("${line#EnvironmentFile=}") ;;
      LoadCredential=*)
        value="${line#LoadCredential=}"
        name="${value%%:*}" path="${value#*:}"
        path="${path//%i/$id}"
        [ -f "$root$path" ] || { echo "credential $path missing" >"$log"; return 243; }
        install -m 400 "$root$path" "$creds/$name"
        ;;
      ExecStart=*) exec_start="${line#ExecStart=}" ;;
    esac
  done < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$unit")
  for path in "${env_files[@]}"; do
    if [ "${path#-}" != "$path" ] && [ ! -f "$root${path#-}" ]; then continue; fi
    while IFS= read -r line; do
      [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || continue
      value="${line#*=}"
      value="${value#\"}" value="${value%\"}"
      env["${line%%=*}"]="$value"
    done <"$root${path#-}"
  done
  env[CREDENTIALS_DIRECTORY]="$creds"
  local words=() argv=()
  read -ra words <<<"${exec_start//%i/$id}"
  for word in "${words[@]}"; do
    if [[ "$word" =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
      # shellcheck disable=SC2206  # split into words, as systemd does
      argv+=(${env[${BASH_REMATCH[1]}]:-})
      continue
    fi
    while [[ "$word" =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
      word="${word//"${BASH_REMATCH[0]}"/"${env[${BASH_REMATCH[1]}]:-}"}"
    done
    argv+=("$word")
  done
  local pairs=()
  for name in "${!env[@]}"; do pairs+=("$name=${env[$name]}"); done
  local status=0
  env -i "${pairs[@]}" timeout 120 ${emulator:+"$emulator"} "$root${argv[0]}" "${argv[@]:1}" >"$log" 2>&1 ||
    status=$?
  return "$status"
}

# The file's mode, owner and group, e.g. "755 root:root".
mode_of() { stat -c '%a %U:%G' "$1"; }

"$host_build/bin/edgefl" keys init "$work/keys" --nodes 1 >/dev/null

for build in "$@"; do
  start=$SECONDS
  [ -x "$build/bin/edgefl-node" ] || fail "$build/bin/edgefl-node missing: build it first"
  out="$work/$(basename "$build")"
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$build" && cpack -G DEB -B "$out/deb") >"$out/cpack.log" 2>&1 || {
    cat "$out/cpack.log" >&2
    fail "cpack in $build"
  }
  # The expected architecture comes from the node's ELF header.
  case "$(readelf -h "$build/bin/edgefl-node" | sed -n 's/^ *Machine: *//p')" in
    AArch64) arch=arm64 emulator=qemu-aarch64 ;;
    ARM) arch=armhf emulator=qemu-arm ;;
    *X86-64) arch=amd64 emulator=qemu-x86_64 ;;
    *) fail "$build/bin/edgefl-node: unknown machine" ;;
  esac
  [ "$arch" != "$(dpkg --print-architecture)" ] || emulator=""
  deb="$out/deb/edgefl-node_${version}_${arch}.deb"
  [ -f "$deb" ] || fail "no $deb (cpack made: $(ls "$out/deb"))"
  echo "package_test: $deb ($(stat -c %s "$deb") bytes)"

  # Control data.
  field() { dpkg-deb -f "$deb" "$1"; }
  [ "$(field Package)" = edgefl-node ] || fail "Package: $(field Package)"
  [ "$(field Version)" = "$version" ] || fail "Version: $(field Version), not $version"
  [ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture), not $arch"
  { [ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ]; } || fail "no Maintainer or Description"
  dpkg-deb -x "$deb" "$out/unpacked"
  force_depends=()
  if readelf -d "$out/unpacked/usr/bin/edgefl-node" | grep -q NEEDED; then
    field Depends | grep -q libzmq5 || fail "a dynamic node, but Depends: $(field Depends)"
    # The fresh root holds no libraries (the node runs with this host's
    # multiarch ones), so dpkg must install it without its dependencies.
    force_depends=(--force-depends)
  else
    [ -z "$(field Depends)" ] || fail "a static node, but Depends: $(field Depends)"
  fi
  [ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | grep -vx "\./" | sort | tr '\n' ' ')" = \
    "./conffiles ./control ./md5sums ./postinst ./postrm ./prerm " ] ||
    fail "control files: $(dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | tr '\n' ' ')"
  files="$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sort | tr '\n' ' ')"
  [ "$files" = "./etc/default/edgefl-node ./lib/systemd/system/edgefl-node@.service ./usr/bin/edgefl-node " ] ||
    fail "files: $files"
  cmp -s "$out/unpacked/lib/systemd/system/edgefl-node@.service" "packaging/edgefl-node@.service" ||
    fail "the packaged unit differs from packaging/edgefl-node@.service"

  # A fresh root with an empty dpkg database; a foreign architecture is added
  # to it as on a multiarch system, so no --force-architecture is needed.
  root="$out/root"
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
  : >"$root/var/lib/dpkg/status"
  dpkg_root=(dpkg --root="$root" --force-script-chrootless)
  if [ "$arch" != "$(dpkg --print-architecture)" ]; then "${dpkg_root[@]}" --add-architecture "$arch"; fi
  "${dpkg_root[@]}" "${force_depends[@]}" -i "$deb" </dev/null >"$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log" >&2; fail "dpkg -i"; }
  query() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f="$1" edgefl-node; }
  # shellcheck disable=SC2016  # dpkg-query's fields, not the shell's
  [ "$(query '${Status}')" = "install ok installed" ] || fail "status: $(query '${Status}')"
  # shellcheck disable=SC2016
  query '${Conffiles}' | grep -q '^ /etc/default/edgefl-node [0-9a-f]\{32\}$' || fail "conffiles: $(query '${Conffiles}')"
  for expected in "755 root:root usr/bin/edgefl-node" "644 root:root lib/systemd/system/edgefl-node@.service" \
    "644 root:root etc/default/edgefl-node" "700 root:root etc/edgefl"; do
    path="${expected##* }"
    [ -e "$root/$path" ] || fail "/$path not installed"
    [ "$(mode_of "$root/$path") $path" = "$expected" ] || fail "/$path: $(mode_of "$root/$path"), not $expected"
  done

  # systemd's own check of the installed unit (as instance 0), the program
  # path pointed into the root; any message fails.
  mkdir -p "$out/units"
  sed "s|/usr/bin/edgefl-node|$root/usr/bin/edgefl-node|" "$root/lib/systemd/system/edgefl-node@.service" \
    >"$out/units/edgefl-node@.service"
  verify="$(SYSTEMD_UNIT_PATH="$out/units:" systemd-analyze verify --man=no edgefl-node@0.service 2>&1)" ||
    fail "systemd-analyze verify: $verify"
  [ -z "$verify" ] || fail "systemd-analyze verify: $verify"

  # The default settings name no coordinator: the unit's node refuses to start
  # with 2, which the unit does not restart.
  install -m 600 "$work/keys/node-0.key" "$work/keys/coordinator.pub" "$root/etc/edgefl/"
  status=0
  run_unit "$root" "$emulator" 0 "$out/unset.log" || status=$?
  { [ "$status" -eq 2 ] && grep -q -- "--connect is empty" "$out/unset.log"; } ||
    fail "with EDGEFL_CONNECT unset the node exited $status: $(cat "$out/unset.log")"

  # A short run: the host coordinator with keys, the installed node as
  # instance 0 with its key and the coordinator's public key in /etc/edgefl.
  "$host_build/bin/edgefl-coordinator" --config examples/quickstart.toml --variant dsgd \
    --set run.nodes=1 --set run.rounds=10 --bind 'tcp://127.0.0.1:*' --out "$out/run" \
    --key "$work/keys/coordinator.key" --allow "$work/keys/allow.keys" --ready-fd 3 \
    3>"$out/endpoint" >"$out/coordinator.log" 2>&1 &
  coordinator_pid=$!
  pids=("$coordinator_pid")
  endpoint=""
  for _ in $(seq 100); do
    endpoint="$(head -n1 "$out/endpoint" 2>/dev/null || true)"
    [ -n "$endpoint" ] && break
    kill -0 "$coordinator_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$endpoint" ] || { cat "$out/coordinator.log" >&2; fail "the coordinator did not start"; }
  sed -i "s|^EDGEFL_CONNECT=.*|EDGEFL_CONNECT=$endpoint|" "$root/etc/default/edgefl-node"
  node_status=0
  run_unit "$root" "$emulator" 0 "$out/node.log" || node_status=$?
  # A node that failed leaves the coordinator waiting for it: stop it.
  [ "$node_status" -eq 0 ] || kill "$coordinator_pid" 2>/dev/null || true
  coordinator_status=0
  wait "$coordinator_pid" || coordinator_status=$?
  pids=()
  if [ "$node_status" -ne 0 ] || [ "$coordinator_status" -ne 0 ]; then
    tail -n 5 "$out/node.log" "$out/coordinator.log" >&2
    fail "node exit $node_status, coordinator exit $coordinator_status"
  fi
  grep -q "run finished" "$out/node.log" || fail "the node did not log the end of the run: $(tail -n 3 "$out/node.log")"
  grep -q "^stop_reason = 'all rounds done'" "$out/run/summary.toml" || fail "summary: $(cat "$out/run/summary.toml")"
  grep -q "^rejected = 0$" "$out/run/summary.toml" || fail "updates rejected: $(grep rejected "$out/run/summary.toml")"

  # Installed again, the edited conffile is kept; removed, only the settings
  # and keys stay; purged, only the keys.
  "${dpkg_root[@]}" "${force_depends[@]}" -i "$deb" </dev/null >>"$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log" >&2; fail "dpkg -i again"; }
  grep -q "^EDGEFL_CONNECT=$endpoint$" "$root/etc/default/edgefl-node" || fail "reinstalling lost EDGEFL_CONNECT"
  "${dpkg_root[@]}" -r edgefl-node </dev/null >>"$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log" >&2; fail "dpkg -r"; }
  { [ ! -e "$root/usr/bin/edgefl-node" ] && [ ! -e "$root/lib/systemd/system/edgefl-node@.service" ]; } ||
    fail "dpkg -r left the program or the unit"
  { [ -f "$root/etc/default/edgefl-node" ] && [ -f "$root/etc/edgefl/node-0.key" ]; } ||
    fail "dpkg -r took the settings or keys"
  "${dpkg_root[@]}" -P edgefl-node </dev/null >>"$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log" >&2; fail "dpkg -P"; }
  [ ! -e "$root/etc/default/edgefl-node" ] || fail "dpkg -P left /etc/default/edgefl-node"
  [ -f "$root/etc/edgefl/node-0.key" ] || fail "dpkg -P took the keys"
  echo "package_test: $arch package: installed, node ran $(sed -n 's/^rounds = //p' "$out/run/summary.toml") rounds" \
    "${emulator:+under $emulator }against the host coordinator, removed and purged ($((SECONDS - start)) s)"
done
