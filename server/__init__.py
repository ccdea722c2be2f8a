"""crossgrad.server: the gRPC service (issue 4)."""
