"""Data protection: subject access, erasure, retention and the audit log's verification."""
