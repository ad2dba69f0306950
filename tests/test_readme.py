"""README.md: its library example runs and prints what its comments say."""
import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_example_runs_and_prints_its_comments():
    text = README.read_text()
    section = text[text.index("## Using the library"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    promised = re.findall(r"^print\(.*\)\s+# (?:.*= )?([-\d.]+)$", code, re.M)
    assert promised and out.getvalue().split() == promised
