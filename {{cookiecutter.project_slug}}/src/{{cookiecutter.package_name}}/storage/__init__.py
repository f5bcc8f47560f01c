"""The DVC remote on S3: push and pull with a diagnosis of remote faults, and a local S3 server."""
