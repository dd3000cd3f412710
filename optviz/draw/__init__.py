"""Pictures: one style (``style``) for the page's Plotly figures (``plots``) and the exported
files: matplotlib frames (``frames``), GIF/MP4 encoders (``encoders``), safe file writing
(``files``), and the export API that joins them (``render``)."""
