#!/usr/bin/env bash
# Smoke test of the built image on a machine whose sandbox lets podman build but not start
# containers (crun cannot set rlimits there): the image's root file system is mounted and its roles
# run under chroot as its user, against a dev server on this host — a worker and the API, one
# convert_file job, the HEALTHCHECK script, a SIGTERM. Where containers start, `docker run` the
# image instead (docs/deploy.md).
#
#   podman build --isolation chroot --format docker -f deploy/Dockerfile -t localhost/pixyz-scheduler:dev .
#   sudo deploy/check/image-smoke.sh localhost/pixyz-scheduler:dev
#
# (On a machine without access to Docker Hub, a base image can be made with debootstrap
# --variant=minbase --include=libstdc++6,ca-certificates bookworm, this host's node and npm copied
# in, `podman import`, and --build-arg NODE_IMAGE=<it>.)
set -euo pipefail
IMAGE=${1:-localhost/pixyz-scheduler:dev}
TEMPORAL=${TEMPORAL_CLI:-$(dirname "$0")/../../.temporal/venv/bin/temporal}
PORT=27233 API=18001 PROBES=18081
CID=$(podman create "$IMAGE" worker)
MNT=$(podman mount "$CID")
mount --bind /proc "$MNT/proc"; mount --bind /dev "$MNT/dev"
cleanup() {
  pkill -TERM -f "src/cli.ts (worker|api)" 2>/dev/null || true
  sleep 2
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
  umount "$MNT/proc" "$MNT/dev" 2>/dev/null || true
  podman umount "$CID" >/dev/null; podman rm "$CID" >/dev/null
}
trap cleanup EXIT
"$TEMPORAL" server start-dev --ip 127.0.0.1 --port $PORT --headless --log-level error \
  --search-attribute PixyzJobName=Keyword --search-attribute PixyzProcess=Keyword --search-attribute PixyzStatus=Keyword > /tmp/image-smoke-server.log 2>&1 &
SERVER=$!
KEY=$(head -c 18 /dev/urandom | base64); HASH=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
role() {
  chroot --userspec=10001:10001 "$MNT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/app NODE_ENV=production LOG_FORMAT=json \
    SHARE_PATH=/share API_PORT=$API WORKER_HEALTH_PORT=$PROBES TEMPORAL_ADDRESS=127.0.0.1:$PORT GOD_PASSWORD_SHA256="$HASH" \
    sh -c "cd /app && exec /usr/bin/tini -s -- node --import tsx src/cli.ts $*"
}
sleep 5
role worker --queues control,share,cpu > /tmp/image-smoke-worker.log 2>&1 &
role api > /tmp/image-smoke-api.log 2>&1 &
for _ in $(seq 1 90); do curl -sf localhost:$API/readyz >/dev/null && curl -sf localhost:$PROBES/readyz >/dev/null && break; sleep 1; done
echo "api:    $(curl -s localhost:$API/readyz)"
echo "worker: $(curl -s localhost:$PROBES/readyz)"
chroot --userspec=10001:10001 "$MNT" /usr/bin/env -i PATH=/usr/bin:/bin API_PORT=$API sh -c 'cd /app && node deploy/healthcheck.cjs' && echo "HEALTHCHECK: ready"
printf 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n' > /tmp/image-smoke.obj
ID=$(curl -sf -H "x-api-key: $KEY" -F process=convert_file -F 'params={"output_format":"glb"}' -F file=@/tmp/image-smoke.obj localhost:$API/jobs | sed 's/.*"uuid":"\([^"]*\)".*/\1/')
for _ in $(seq 1 60); do S=$(curl -s -H "x-api-key: $KEY" localhost:$API/jobs/$ID); echo "$S" | grep -q '"SUCCESS"\|"FAILURE"' && break; sleep 1; done
echo "job:    $S"
echo "outputs: $(curl -s -H "x-api-key: $KEY" localhost:$API/jobs/$ID/outputs)"
echo "$S" | grep -q '"SUCCESS"'
