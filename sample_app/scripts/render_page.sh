#!/bin/bash
# AfterInstall: fill in version, stage and region, and point Apache at the page.
set -euo pipefail
root=/var/www/xrdeploy-sample
token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 60")   # IMDSv2: the fleet requires tokens
metadata() { curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"; }
region=$(metadata placement/region)
# xrdeploy tags every instance with its stage and exposes tags to the metadata service.
stage=$(metadata tags/instance/Stage || echo unknown)
sed -e "s|@VERSION@|$(cat "$root/VERSION")|" \
    -e "s|@STAGE@|$stage|" \
    -e "s|@REGION@|$region|" \
    -e "s|@DEPLOYMENT_ID@|${DEPLOYMENT_ID:-unknown}|" \
    "$root/index.html.template" > "$root/index.html"
cat > /etc/httpd/conf.d/xrdeploy-sample.conf <<CONF
DocumentRoot "$root"
<Directory "$root">
  Require all granted
</Directory>
CONF
