#!/bin/sh
# The container's main process: the local cloud in the foreground until `docker stop`.
set -eu
# Container runtimes bind-mount /etc/hosts, /etc/hostname and /etc/resolv.conf; while they are
# mounts, overlaying /etc for a local instance fails ("failed to clone lowerpath") and the
# instance would get an empty /etc. Keep their contents as plain files instead.
for file in /etc/hosts /etc/hostname /etc/resolv.conf; do
    if grep -q " $file " /proc/self/mountinfo; then
        content=$(cat "$file")
        umount "$file"
        printf '%s\n' "$content" > "$file"
    fi
done
cd /opt/xrdeploy
exec python3 -m emulator serve --port "$XRDEPLOY_PORT"
