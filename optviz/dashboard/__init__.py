"""The Streamlit dashboard: ``app.py`` here is the page's script (``optviz dashboard`` runs it)."""

from pathlib import Path

#: The Streamlit script of the dashboard, for ``streamlit run``.
SCRIPT = Path(__file__).with_name("app.py")
