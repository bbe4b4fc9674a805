"""Request guards and fault injection: the ``xrdeploy-guards`` Extension (:mod:`.extension`)
runs fault injection (:mod:`.faults`), STS trust policies (:mod:`.trust`), KMS key state in S3
(:mod:`.kms_state`) and the IAM guard of :mod:`xrdeploy_local_cloud.iam` on every request."""
