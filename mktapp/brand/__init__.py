"""Brand strategy and market activities (P3.1–P3.4), blueprint `brand` at /brand.

- strategy: the brand strategy's versions (P3.1) — routes_strategy.
- activities: plan, approval through the engine, budget reservation, change requests,
  list and month calendar (P3.2) — activities.py, routes_activities.py.
- execution: task checklists from templates per type, check-in, on-site feedback by a
  questionnaire reached through a QR code (P3.3) — execution.py, routes_execution.py.
- evaluation: figures computed in SQL, the manager's approval, the frozen PDF (P3.4) —
  evaluation.py, routes_evaluation.py.

The activity page (routes_activities.activity) knows only the registry in
activity_page.py: execution and evaluation register their panels and actions there.
"""

from flask import Blueprint

from mktapp.core.chapter import chapter

bp = Blueprint("brand", __name__, url_prefix="/brand")

from mktapp.brand import (  # noqa: E402,F401  (the routes need `bp`)
    activities,
    changes,
    evaluation,
    execution,
    routes_activities,
    routes_evaluation,
    routes_execution,
    routes_strategy,
)

register = chapter(
    bp,
    activities,
    changes,
    evaluation,
    execution,
    routes_activities,
    routes_evaluation,
    routes_execution,
    routes_strategy,
)
