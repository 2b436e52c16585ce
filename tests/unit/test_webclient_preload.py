"""The web client's shell preloads its whole ES module graph, so a page (a replay above all)
does not wait one round trip per level of imports."""

import re
from pathlib import Path

import townhall

WEBCLIENT = Path(townhall.__file__).parent / "webclient"
IMPORT = re.compile(r'^\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"', re.MULTILINE | re.DOTALL)


def module_graph(entry: str) -> set[str]:
    seen: set[str] = set()
    pending = [entry]
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        text = (WEBCLIENT / module).read_text()
        for found in IMPORT.finditer(text):
            target = ((WEBCLIENT / module).parent / found.group(1)).resolve()
            pending.append(target.relative_to(WEBCLIENT.resolve()).as_posix())
    return seen


def test_the_shell_preloads_every_module_app_js_imports() -> None:
    html = (WEBCLIENT / "index.html").read_text()
    preloaded = set(re.findall(r'rel="modulepreload" href="/static/([^"]+)"', html))
    assert preloaded == module_graph("app.js") - {"app.js"}
