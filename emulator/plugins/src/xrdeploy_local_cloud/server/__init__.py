"""How the plugins are loaded and served: :mod:`.extension_loader` loads LocalStack Extensions,
which the community runtime does not do itself; :mod:`.loopback` is the gateway server that binds
only the configured host."""
