"""The chain config and what derives from it alone: the validated model, the promotion topology,
the derived names and ARNs, the deploy target and the chain diagram. Imports nothing else of the app
but its errors."""
