"""Plotly figure builders: pure functions from data to figures, one module per page topic."""
