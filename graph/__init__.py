"""Build the account graph, detect rings, score and explain them; engines live here."""
