"""Tests of colisten.trainers."""
