"""Visible checks of each lesson's exercises, one module per lesson."""
