# optviz dashboard: docker build -t optviz . && docker run --rm -p 8501:8501 optviz
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    NUMBA_CACHE_DIR=/tmp/numba

# curl for the health check; nothing else from apt (the ffmpeg binary comes with imageio-ffmpeg).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

# The package, installed as the README installs it: requirements.txt is "." (pyproject.toml).
WORKDIR /src
COPY pyproject.toml README.md requirements.txt ./
COPY functions/ functions/
COPY optviz/ optviz/
RUN pip install --no-cache-dir -r requirements.txt

RUN useradd --create-home --uid 1000 optviz
USER optviz
WORKDIR /home/optviz

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl --fail --silent http://localhost:8501/_stcore/health || exit 1

# Exec form: optviz is PID 1 and gets docker stop's SIGTERM, which stops Streamlit cleanly.
CMD ["optviz", "dashboard", "--host", "0.0.0.0", "--port", "8501", "--headless"]
