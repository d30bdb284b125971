"""localcloud's OSS: buckets and objects on disk, the REST API, and async audio processing."""
