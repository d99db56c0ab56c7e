#!/usr/bin/env bash
# The image with a volume on /data and XREPL_DATA_DIR=/data: a bucket created before a container
# restart is there after it (the unprivileged user can write the volume). Needs the image
# (scripts/build-image.sh) and the AWS CLI (scripts/clients-check.sh installs one in its venv).
set -euo pipefail
IMAGE="${XREPL_IMAGE:-xrepl-emulator:local}"
AWS="${AWS_CLI:-/var/tmp/xrepl-clients-venv/bin/aws}"
NAME="xrepl-volume-smoke-$$"
VOLUME="$NAME-data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=111111111111 AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
wait_healthy() {
  for _ in $(seq 1 100); do
    "$AWS" --endpoint-url "http://127.0.0.1:$PORT" s3api list-buckets >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "volume-smoke: the container did not answer" >&2; docker logs "$NAME" >&2; return 1
}
docker run -d --name "$NAME" -p "127.0.0.1:$PORT:4566" -v "$VOLUME:/data" -e XREPL_DATA_DIR=/data "$IMAGE" >/dev/null
wait_healthy
"$AWS" --endpoint-url "http://127.0.0.1:$PORT" s3api create-bucket --bucket kept-across-restarts >/dev/null
docker restart "$NAME" >/dev/null
wait_healthy
if "$AWS" --endpoint-url "http://127.0.0.1:$PORT" s3api list-buckets --query 'Buckets[].Name' --output text | grep -qw kept-across-restarts; then
  echo "volume-smoke: the bucket survived a container restart: 1 passed, 0 failed"
else
  echo "volume-smoke: the bucket is gone after a restart" >&2; exit 1
fi
