"""One provider per cloud service, one method per API operation, state in the shared StateStore."""
