"""Entry point: `flask run` and `gunicorn app:app` find the application here."""

from mktapp import create_app

app = create_app()
