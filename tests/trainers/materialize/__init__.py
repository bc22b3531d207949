"""Tests of trainers.materialize."""
