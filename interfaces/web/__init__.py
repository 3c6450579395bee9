"""Pieces of the Streamlit app (app.py) that are more than layout."""
