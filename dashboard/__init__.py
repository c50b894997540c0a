"""The analysts' dashboard: a Streamlit app over the detection results (`ringwatch dashboard`)."""
