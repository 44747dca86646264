"""Helpers shared by the portal tests: run the getting-started examples exactly as the
portal shows them, the way a developer pastes them into a shell or a Python file."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = re.compile(
    r'<pre class="example" data-lang="(\w+)" data-example="([\w-]+)"><code>(.*?)</code></pre>',
    re.S,
)


def examples(page_html: str) -> dict[str, tuple[str, str]]:
    """example name -> (language, code) as the page shows them."""
    return {name: (lang, html.unescape(code)) for lang, name, code in EXAMPLE.findall(page_html)}


def run_example(lang: str, code: str, env: dict[str, str], tmp: Path) -> str:
    """Run one example; its standard output (it must exit 0 within 60 s)."""
    full_env = {**os.environ, **env}
    if lang == "python":
        script = tmp / "example.py"
        script.write_text(code)
        cmd = [sys.executable, str(script)]
    else:
        cmd = ["bash", "-euo", "pipefail", "-c", code]
    done = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{lang} example failed:\n{code}\n{done.stdout}\n{done.stderr}"
    return done.stdout
