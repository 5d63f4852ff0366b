"""Gradio chat interface."""
