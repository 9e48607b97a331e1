import os

os.environ.setdefault("MPLBACKEND", "Agg")  # plots render headless in CI
