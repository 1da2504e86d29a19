"""Streamlit-side helpers shared by the pages (the engine, `streamrec`, never imports Streamlit)."""
