"""Answering from retrieved passages: extractive and generative answerers, verdicts, briefs."""
