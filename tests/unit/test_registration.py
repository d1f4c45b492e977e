"""Issue 12, item 5: importing a module registers nothing; each part of the app adds its
sidebar entries, flows, settings, audit labels, attachments and page parts in its own
register(app), which create_app calls in one readable list."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import importlib, json, pkgutil, sys
import mktapp
from mktapp.config import TestConfig


def counts():
    from mktapp.brand import activity_page
    from mktapp.core import approvals, attachments, audit_display, nav, settings
    from mktapp.sales import customer_page

    return {
        "sidebar entries": sum(len(s.entries) for s in nav.SECTIONS),
        "flows": len(approvals.FLOWS),
        "settings": len(settings.REGISTRY),
        "attachables": len(attachments._registry),
        "audit labels": len(audit_display._record_labels) + len(audit_display._type_fields),
        "customer page parts": len(customer_page._parts._panels) + len(customer_page._parts._actions),
        "activity page parts": len(activity_page._parts._panels) + len(activity_page._parts._actions),
    }


for info in pkgutil.walk_packages(mktapp.__path__, "mktapp."):
    importlib.import_module(info.name)
imported = counts()
mktapp.create_app(TestConfig(sys.argv[1]))
print(json.dumps({"imported": imported, "built": counts()}))
"""


def test_importing_every_module_registers_nothing_and_create_app_registers_it_all(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(found["imported"].values()), found["imported"]
    built = found["built"]
    assert all(built.values()), built
    assert built["flows"] >= 9 and built["sidebar entries"] >= 30, built
