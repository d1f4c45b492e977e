"""What the parts of the brand chapter add to an activity's page (core/page_parts.py).

Execution registers its task, participant and feedback panels; evaluation its panel and
its "evaluate" action. The activity page renders `panels_for(activity, user)` in order.
"""

from mktapp.core.page_parts import Action, PageParts, Panel

__all__ = [
    "Action",
    "Panel",
    "actions_for",
    "panels_for",
    "register_action",
    "register_panel",
    "rendered_panels",
]

_parts = PageParts("activity_id", "activity")

register_action = _parts.register_action
register_panel = _parts.register_panel
actions_for = _parts.actions_for
panels_for = _parts.panels_for
rendered_panels = _parts.rendered_panels
