"""Tests of the HGNN trainer."""
