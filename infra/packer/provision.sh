#!/usr/bin/env bash
# Runs as root on the bake instance (infra/packer/synkti-ami.json). The base image is the AWS Deep
# Learning Base GPU AMI (Ubuntu 22.04), which ships the NVIDIA driver, Docker and the NVIDIA
# container toolkit; each step installs what is missing, so another Ubuntu GPU base works too.
# Environment: NODE_MAJOR, VLLM_IMAGE, MODEL (optional), HF_TOKEN (optional, for gated models).
# They arrive through Packer's env file, sourced and deleted by the execute_command, so the
# token is never in a process's argv (`ps`, sudo's log); keep it that way: pass it by name
# (`docker run -e HF_TOKEN`), never as `-e HF_TOKEN=...` or an argument, and never `set -x`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${NODE_MAJOR:=24}" "${VLLM_IMAGE:?}" "${MODEL:=}"
HF_CACHE=/opt/synkti/hf-cache

log() { printf '==> synkti bake: %s\n' "$*"; }

log 'waiting for cloud-init (apt locks)'
cloud-init status --wait >/dev/null || true

log 'NVIDIA driver'
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader

log 'Docker'
if ! command -v docker >/dev/null; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends docker.io
fi
systemctl enable --now docker

log 'NVIDIA container toolkit'
if ! command -v nvidia-ctk >/dev/null; then
  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
  curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list \
    | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#g' \
    > /etc/apt/sources.list.d/nvidia-container-toolkit.list
  apt-get update -q
  apt-get install -y -q nvidia-container-toolkit
fi
nvidia-ctk runtime configure --runtime=docker
systemctl restart docker
docker run --rm --gpus all ubuntu:22.04 nvidia-smi -L

log "Node ${NODE_MAJOR} (NodeSource apt repository: security updates come with apt upgrades)"
if ! node --version 2>/dev/null | grep -q "^v${NODE_MAJOR}\."; then
  curl -fsSL "https://deb.nodesource.com/setup_${NODE_MAJOR}.x" | bash -
  apt-get install -y -q nodejs
fi
node --version | grep "^v${NODE_MAJOR}\."

log 'the synkti agent (npm pack tarball, production dependencies only)'
npm install -g --omit=dev --no-audit --no-fund /tmp/synkti-agent.tgz
for bin in synkti synkti-agent; do
  if [ "$(command -v "$bin")" != "/usr/bin/$bin" ]; then ln -sf "$(command -v "$bin")" "/usr/bin/$bin"; fi
done
/usr/bin/synkti --version
/usr/bin/synkti-agent --version
rm -f /tmp/synkti-agent.tgz

log 'the synkti user and the service (enabled by the user data, which writes its env file)'
id synkti >/dev/null 2>&1 || useradd --system --home-dir /var/lib/synkti --shell /usr/sbin/nologin synkti
usermod -aG docker synkti
install -d -m 0755 /etc/synkti
install -d -o synkti -g synkti -m 0700 /var/lib/synkti
install -m 0644 /tmp/synkti-agent.service /etc/systemd/system/synkti-agent.service
rm -f /tmp/synkti-agent.service
systemctl daemon-reload

log "pre-pulling ${VLLM_IMAGE}"
docker pull "${VLLM_IMAGE}"

install -d -m 0755 "${HF_CACHE}"
if [ -n "${MODEL}" ]; then
  log "pre-downloading ${MODEL} into ${HF_CACHE}"
  docker run --rm -e HF_TOKEN -v "${HF_CACHE}:/root/.cache/huggingface" --entrypoint python3 "${VLLM_IMAGE}" \
    -c "import sys; from huggingface_hub import snapshot_download; print(snapshot_download(sys.argv[1]))" "${MODEL}"
fi
# Nothing below needs the token; later steps and their children should not inherit it.
unset HF_TOKEN

log 'cleaning up for the image'
apt-get clean
rm -rf /var/lib/apt/lists/*
cloud-init clean --logs
