"""Ingestion: load documents, chunk them and index them."""
