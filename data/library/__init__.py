"""The bundled library (papercli._bundled): data only, read with importlib.resources."""
