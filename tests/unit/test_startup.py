"""The app starts light: the heavy libraries load with the first PDF or statistic."""

from __future__ import annotations

import subprocess
import sys


def test_building_the_app_does_not_load_scipy_or_weasyprint(tmp_path):
    code = (
        "import sys, tempfile\n"
        "from mktapp import create_app\n"
        "from mktapp.config import TestConfig\n"
        f"create_app(TestConfig({str(tmp_path)!r}))\n"
        "print(sorted(m for m in ('scipy', 'weasyprint') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
