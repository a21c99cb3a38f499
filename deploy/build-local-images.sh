#!/usr/bin/env bash
# Builds the images docker-compose.yml runs, locally and without any registry (nothing is pulled):
#   moqcluster/hostlibs:local  a base image made of this host's glibc, libstdc++, libz and OpenSSL libraries
#   moqcluster/etcd:local      this host's etcd binary (Debian etcd-server; it links only libc) on that base
#   moqcluster/edge:local      the edge, published self-contained on the host, on that base (deploy/edge/Dockerfile)
# and writes deploy/local.env, which points docker-compose at them:
#   docker-compose --env-file deploy/local.env up -d
# Needs: a running docker engine, dotnet, etcd. Usage: deploy/build-local-images.sh [--skip-publish]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TAG=${TAG:-local}
BASE=moqcluster/hostlibs:$TAG
ETCD=moqcluster/etcd:$TAG
EDGE=moqcluster/edge:$TAG
ARCH_LIB=/lib/x86_64-linux-gnu
[ "$(uname -m)" = x86_64 ] || { echo "build-local-images.sh: only x86_64 hosts are supported" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-local-images.sh: no docker engine (start dockerd; see deploy/docker-engine.sh)" >&2; exit 1; }
ETCD_BIN=$(command -v etcd) || { echo "build-local-images.sh: etcd is not installed (apt-get install etcd-server)" >&2; exit 1; }

work=$(mktemp -d /tmp/moqcluster-images.XXXX)
trap 'rm -rf "$work"' EXIT

# 1. Base: the dynamic loader and the libraries a self-contained .NET app (and etcd) load.
root=$work/root
mkdir -p "$root/lib64" "$root$ARCH_LIB" "$root/etc" "$root/tmp" "$root/app"
chmod 1777 "$root/tmp"
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
for lib in libc.so.6 libdl.so.2 libgcc_s.so.1 libm.so.6 libpthread.so.0 librt.so.1 libstdc++.so.6 libz.so.1 libssl.so.3 libcrypto.so.3; do
  cp -L "$ARCH_LIB/$lib" "$root$ARCH_LIB/"
done
echo 'root:x:0:0:root:/root:/bin/false' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1' - "$BASE" >/dev/null
echo "built $BASE"

# 2. etcd on the base.
mkdir -p "$work/etcd"
cp -L "$ETCD_BIN" "$work/etcd/etcd"
printf 'FROM %s\nCOPY etcd /usr/local/bin/etcd\nCMD ["/usr/local/bin/etcd"]\n' "$BASE" >"$work/etcd/Dockerfile"
docker build -q -t "$ETCD" "$work/etcd" >/dev/null
echo "built $ETCD"

# 3. The edge, published self-contained into deploy/edge/app, on the base.
if [ "${1:-}" != --skip-publish ]; then
  rm -rf deploy/edge/app
  dotnet publish src/Edge -nologo -v quiet -c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true -o deploy/edge/app
fi
docker build -q --build-arg "DOTNET_IMAGE=$BASE" -t "$EDGE" deploy/edge >/dev/null
echo "built $EDGE"

cat >deploy/local.env <<ENV
# Written by deploy/build-local-images.sh: docker-compose --env-file deploy/local.env up -d
DOTNET_IMAGE=$BASE
ETCD_IMAGE=$ETCD
EDGE_IMAGE=$EDGE
ENV
echo "wrote deploy/local.env"
