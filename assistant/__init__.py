"""Question-answering assistant on French local governments' digital policy."""
