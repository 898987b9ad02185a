"""Low-level file handling shared by every layer (no dpshowcase imports above ``errors``)."""
