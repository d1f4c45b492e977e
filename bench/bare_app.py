"""The yardstick: a bare Flask + SQLAlchemy page listing 50 rows of the same users table.

No login, no layout, no permissions: one query and a small Jinja template.
bench/pages.py serves it with gunicorn (`gunicorn --chdir bench bare_app:app`)
with BENCH_DATABASE_URL pointing at the benchmark's database.
"""

from __future__ import annotations

import os

from flask import Flask, render_template_string, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_pre_ping=True)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Users</title></head>
<body><main><h1>Users</h1>
<table><thead><tr><th>Username</th><th>Name</th><th>E-mail</th><th>Phone</th></tr></thead>
<tbody>{% for u in users %}<tr><td>{{ u.username }}</td><td>{{ u.display_name }}</td>
<td>{{ u.email }}</td><td>{{ u.phone }}</td></tr>{% endfor %}</tbody></table>
</main></body></html>"""


@app.get("/users")
def users():
    page = max(1, request.args.get("page", 1, type=int))
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, username, display_name, email, phone FROM users"
                " ORDER BY id LIMIT 50 OFFSET :offset"
            ),
            {"offset": (page - 1) * 50},
        ).all()
    return render_template_string(PAGE, users=rows)
