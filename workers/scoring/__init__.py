"""Comment scoring with Detoxify: every variant, every output label, offline-ready."""
