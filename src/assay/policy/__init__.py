"""One declarative policy, applied the same way by the CLI, the registry and the server."""
