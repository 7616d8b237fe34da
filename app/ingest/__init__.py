"""Turning PDF files into page text, sections and chunks."""
