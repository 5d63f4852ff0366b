"""Evaluation harness: gold set, metrics, runner and report."""
