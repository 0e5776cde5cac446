"""Real stand-ins for external services (a model provider over HTTP), shared by every test package."""
