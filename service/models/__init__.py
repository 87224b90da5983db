"""The model registry: which models a deployment has, known without loading any (no torch)."""
