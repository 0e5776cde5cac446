"""Renderers: pure functions from result data to text, one module per output kind."""
