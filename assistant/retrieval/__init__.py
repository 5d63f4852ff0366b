"""Finding passages: the vector store, the lexical index, the embedders and their fusion."""
