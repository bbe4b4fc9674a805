"""xrdeploy: promote one tested build through ordered AWS stages, defined as Terraform via CDKTF."""
