"""Git repositories of the local cloud: bare repositories on disk (:mod:`.repos`), addressed by
URL (:mod:`.urls`), served over Git's smart HTTP (:mod:`.http_backend`), whose pushes are told
to the services that start pipelines (:mod:`.pushes`)."""
