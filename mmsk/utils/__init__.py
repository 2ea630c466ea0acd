"""Utilities shared by every mmsk family: the scikit-learn compat layer and validation."""
