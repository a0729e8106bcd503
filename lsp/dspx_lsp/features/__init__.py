"""One module per language feature; each exposes `register(server)` plus pure helpers."""
