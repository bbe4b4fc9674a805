"""The app's wiring: the validated config in, the leaf constructs of `modules/` out.

`chain_stack` is one Terraform stack (its providers, its backend, its stages); `stage` wires one
stage's constructs together; `stage_props` derives the typed props each construct gets from the
config and `xrdeploy.config.naming`; `providers` is the provider factory, the one place that turns
the deploy target (AWS or the local cloud) into provider settings.
"""

# The provider binding, loaded the light way before this package's modules import from it
# (modules/provider_binding.py).
import modules  # noqa: F401
