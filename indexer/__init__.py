"""Turns the knowledge into documents, embeds them and keeps a FAISS index with its manifest."""
