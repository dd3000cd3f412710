"""Pictures: one style (``style``) for the page's Plotly figures (``plots``) and the exported
GIF/MP4 frames and files (``render``)."""
