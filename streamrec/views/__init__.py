"""What pages show, as plain data: view-building code the pages call (no Streamlit here)."""
