#!/bin/bash
# ValidateService: the page must be served and show the version just installed; a failure here
# fails the deployment, which rolls back and stops the promotion.
set -euo pipefail
expected=$(cat /var/www/xrdeploy-sample/VERSION)
for attempt in 1 2 3 4 5; do
  if curl -sf http://127.0.0.1/ | grep -q "<strong id=\"version\">$expected</strong>"; then
    exit 0
  fi
  sleep 2
done
echo "the page does not show version $expected" >&2
exit 1
