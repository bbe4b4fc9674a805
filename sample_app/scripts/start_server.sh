#!/bin/bash
# ApplicationStart: (re)start Apache so it serves the new page.
set -euo pipefail
systemctl enable httpd
systemctl restart httpd
