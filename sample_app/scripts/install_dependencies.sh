#!/bin/bash
# BeforeInstall: the web server the page is served by.
set -euo pipefail
dnf install -y httpd
