"""Leaf CDKTF constructs: one concern per file, each with a frozen config dataclass beside it.

They import only cdktf, the provider bindings and each other, and take everything else as typed
props: names, ARNs and the partition come from the caller (`arns.py` builds ARNs for a given
partition). Constructs never create providers; the caller passes one in. The app's wiring of
config to constructs is in `xrdeploy/terraform/assembly/`.
"""

from modules.provider_binding import load_lazily

# Before any construct imports a binding module (see provider_binding.py for why).
load_lazily()
