#!/usr/bin/env bash
# Installs everything edgefl needs to build and test on Debian 12, with apt.
# Idempotent: packages already present are skipped, and apt is not touched
# at all when nothing is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev libsodium-dev
  flatbuffers-compiler libflatbuffers-dev
  libeigen3-dev
  doctest-dev
  libcli11-dev libtomlplusplus-dev
  clang libclang-rt-14-dev
  gnuplot-nox  # `edgefl report` draws its figures with it (pngcairo, svg)
  iproute2     # ip and tc: link.shaping = "kernel" (sim/kernel_links.h)
  openmpi-bin  # mpirun, a launcher only: edgefl run --launcher mpirun (sim/launch_command.h)
  slurmctld slurmd slurm-client  # srun, the same: a Slurm of one machine in tests/integration/launcher_test.cc
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then "${sudo_cmd[@]}" apt-get update -qq; apt_updated=1; fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  apt_update
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The 8x8 handwritten digits (UCI, 1797 images; licence CC BY 4.0) that
# Debian ships inside python3-sklearn. Only the data file is taken from the
# package, unpacked without installing it or its dependencies.
data_dir=/usr/local/share/edgefl/data
if [ ! -s "$data_dir/digits.csv" ]; then
  echo "setup: fetching the digits data set from Debian's python3-sklearn"
  apt_update
  work=$(mktemp -d)
  chmod 777 "$work"
  (cd "$work" && apt-get download -qq python3-sklearn 2>/dev/null)
  "${sudo_cmd[@]}" mkdir -p "$data_dir"
  dpkg-deb --fsys-tarfile "$work"/python3-sklearn_*.deb |
    tar -xO ./usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz | gunzip |
    "${sudo_cmd[@]}" tee "$data_dir/digits.csv.tmp" > /dev/null
  dpkg-deb --fsys-tarfile "$work"/python3-sklearn_*.deb |
    tar -xO ./usr/lib/python3/dist-packages/sklearn/datasets/descr/digits.rst |
    "${sudo_cmd[@]}" tee "$data_dir/digits.rst" > /dev/null
  "${sudo_cmd[@]}" mv "$data_dir/digits.csv.tmp" "$data_dir/digits.csv"
  rm -rf "$work"
fi
echo "setup: data in $data_dir"
