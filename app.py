"""The optviz dashboard's entry for ``streamlit run app.py``: the app lives in ``optviz/dashboard/``."""

from optviz.dashboard.app import page

page()
