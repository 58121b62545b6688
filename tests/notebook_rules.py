"""The notebook rules every stored notebook meets (run by tests/test_notebook_rules.py and by the
pre-commit hook).

    python tests/notebook_rules.py                     # every notebook; exit 1 on a violation
    python tests/notebook_rules.py chapter3/*.ipynb    # only these

1. **Numbers come from the run.** Every number written in decimal digits in a Markdown cell appears
   in that notebook's outputs or code (comments do not count), or stands in a sentence that links
   its source (a paper, a tutorial, an issue: a web address), or is a version or section number.
   Generated cells (the course header/footer), math (``$…$``), fenced code and the prompts under
   a "练习 / Exercises" heading are not read. Numbers compare by
   value: ``60,000`` = ``60000``, ``0.80`` = ``0.8``.
2. **No stderr in stored outputs**: C++ log lines and warnings read as errors on GitHub.
3. (ruff, in tests/test_notebook_rules.py: formatted and linted code cells and Python files.)

Offenders that existed when the rules came in (2026-12-07) are listed per notebook in
``notebook_rules_exemptions.json``; the lesson rewrites empty it. Nothing writes that file: an entry
that is no longer an offender is an error, so the file only shrinks.
"""

from __future__ import annotations

import collections
import decimal
import io
import json
import pathlib
import re
import sys
import tokenize

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXEMPTIONS = pathlib.Path(__file__).with_name("notebook_rules_exemptions.json")
GENERATED_TAGS = {"course-header", "course-footer"}

NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.\\])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\d)"
)
#: ``.5`` in code.
_BARE_FRACTION = re.compile(r"(?<![\w.])\.\d+")
#: How a Markdown number may be written around its digits: 10 万 = 100000, 20% = 0.2 (or 20).
_SUFFIX = re.compile(r"\s?(万|亿|千|%)|([kK])\b")
_LIST_MARKER = re.compile(r"^(\s*)\d+[.)]\s")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_HTML = re.compile(r"<[^>]+>")
_SENTENCE_END = re.compile(r"(?<=[。；！？])|(?<=[.;!?])\s+|\n(?=\s*(?:[-*]|\d+\.)\s)|\n\n")
_VERSION_BEFORE = re.compile(
    r"(?:TensorFlow|TF|Keras|Python|tf-keras|tensorflow[-\w]*|tf-models-official|nbval|numpy|pandas|"
    r"scikit-learn|scipy|matplotlib|arch|pip|CUDA|cuDNN|Ubuntu|macOS|Windows|WSL|Debian|ruff|pytest|"
    r"JupyterLab|Jupyter|版本|version|(?<![A-Za-z])v)\s*[~=<>≥≤]*\s*$",
    re.I,
)
_SECTION_BEFORE = re.compile(
    r"(?:练习|习题|Exercise|exercise|Step|步骤|Chapter|chapter|Section|section|"
    r"§|issue|#|cell \[|单元 \[)\s*$"
)
_EXERCISES = re.compile(r"^#+\s*练习\b.*$|^#+\s*Exercises\b.*$", re.M)
_FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.S | re.M)
_SECTION_AROUND = re.compile(r"第\s*$")
_SECTION_AFTER = re.compile(r"^\s*(?:章|节|步|题|讲|课|部分)")


def candidates(written: str) -> set[str]:
    """The values a Markdown number as written may mean: ``10 万`` → 100000, ``20%`` → 0.2 or 20."""
    match = _SUFFIX.search(written)
    number = decimal.Decimal(NUMBER.match(written).group(0).replace(",", ""))
    suffix = (match.group(1) or match.group(2)) if match else ""
    if suffix in ("千", "k", "K"):
        return {value(str(number * 1_000))}
    if suffix == "万":
        return {value(str(number * 10_000))}
    if suffix == "亿":
        return {value(str(number * 100_000_000))}
    if suffix == "%":
        return {value(str(number)), value(str(number / 100))}
    return {value(str(number))}


def value(token: str) -> str:
    """A number's value as a canonical string: ``60,000`` → ``60000``, ``0.80`` → ``0.8``, ``1e-3``
    → ``0.001``."""
    number = decimal.Decimal(NUMBER.match(token).group(0).replace(",", ""))
    return format(number.normalize(), "f") if number else "0"


def _code_without_comments(source: str) -> str:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    text = "\n".join(lines) + "\n"
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type != tokenize.COMMENT
        ]
        return tokenize.untokenize(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.sub(r"#[^\n]*", "", text)


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    data = output.get("data", {})
    return "".join(data.get("text/plain", "")) + "".join(data.get("text/html", ""))


def known_values(nb: dict) -> set[str]:
    """Every number's value in the code (comments stripped) and the stored outputs of a notebook."""
    found: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        # 60_000 in code is 60000
        texts = [re.sub(r"(?<=\d)_(?=\d)", "", _code_without_comments("".join(cell["source"])))]
        texts += [_output_text(o) for o in cell.get("outputs", [])]
        for text in texts:
            found.update(value(m.group(0)) for m in NUMBER.finditer(text))
            found.update(value("0" + m.group(0)) for m in _BARE_FRACTION.finditer(text))
    return found


def _rounds_to(written_values: set[str], known: set[str]) -> bool:
    """True when a value with 2 or more decimals is a rounding of a known, longer value (约 0.93 for
    0.933 printed)."""
    for text in written_values:
        places = -decimal.Decimal(text).as_tuple().exponent
        if places < 2:
            continue
        step = decimal.Decimal(1).scaleb(-places)
        for other in known:
            if (
                len(other) > len(text)
                and "." in other
                and other.startswith(text[: text.index(".")])
            ):
                rounded = decimal.Decimal(other).quantize(step, rounding=decimal.ROUND_HALF_UP)
                if rounded == decimal.Decimal(text):
                    return True
    return False


def _exempt(text: str, start: int, end: int, heading: bool) -> bool:
    before, after, token = text[:start], text[end:], text[start:end]
    if re.match(r"^\.\d", after):  # 2.20.0: a version
        return True
    if _VERSION_BEFORE.search(before[-24:]) or _SECTION_BEFORE.search(before[-12:]):
        return True
    if _SECTION_AROUND.search(before[-3:]) and _SECTION_AFTER.match(after):
        return True
    return heading and "." not in token  # section numbers in headings ("## 3. 模型", "第 2 步")


def markdown_numbers(source: str) -> list[str]:
    """The numbers (as written) of one Markdown cell that the rule asks to find in outputs or
    code."""
    wanted = []
    source = _MATH.sub(" ", _FENCE.sub(" ", source))  # math and fenced code are not prose
    source = _EXERCISES.split(source)[0]  # exercise prompts ask, they do not claim
    for line in source.splitlines():
        heading = line.lstrip().startswith("#")
        # <a href="URL"> keeps its address (a link to a source); "7. …" list markers are structure
        line = _HTML.sub(lambda m: " " + " ".join(_URL.findall(m.group(0))) + " ", line)
        line = _LIST_MARKER.sub(r"\1", line)
        for sentence in _SENTENCE_END.split(line):
            if not sentence or _URL.search(sentence):
                continue  # a sentence that links its source (a web address)
            sentence = _LINK_TARGET.sub("]", sentence)
            for match in NUMBER.finditer(sentence):
                if not _exempt(sentence, match.start(), match.end(), heading):
                    suffix = _SUFFIX.match(sentence, match.end())
                    wanted.append(match.group(0) + (suffix.group(0) if suffix else ""))
    return wanted


def unsupported_numbers(nb: dict) -> list[str]:
    """Numbers in the notebook's Markdown that appear in no output or code of it, in order (repeats
    kept)."""
    known = known_values(nb)
    missing = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown" or GENERATED_TAGS & set(
            cell.get("metadata", {}).get("tags", [])
        ):
            continue
        source = "".join(cell["source"])
        missing += [
            n
            for n in markdown_numbers(source)
            if not candidates(n) & known and not _rounds_to(candidates(n), known)
        ]
    return missing


def stderr_outputs(nb: dict) -> list[str]:
    """``cell N: first line`` for every stored stderr stream."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                first = "".join(output.get("text", "")).strip().splitlines()[:1]
                found.append(f"cell {index}: {first[0][:160] if first else '(blank)'}")
    return found


def notebooks() -> list[pathlib.Path]:
    from tfnotes import report

    return report.find_notebooks(ROOT)


def load_exemptions() -> dict[str, list[str]]:
    return json.loads(EXEMPTIONS.read_text(encoding="utf-8")) if EXEMPTIONS.exists() else {}


def check(
    path: pathlib.Path, exemptions: dict[str, list[str]], root: pathlib.Path = ROOT
) -> list[str]:
    """Every violation of rules 1 and 2 in one notebook, as readable lines (empty: it passes)."""
    rel = path.relative_to(root).as_posix()
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = [f"{rel}: stderr in stored output, {line}" for line in stderr_outputs(nb)]
    missing = collections.Counter(value(n) for n in unsupported_numbers(nb))
    allowed = collections.Counter(value(n) for n in exemptions.get(rel, []))
    new = missing - allowed
    if new:
        problems.append(
            f"{rel}: Markdown numbers in no output or code of the notebook (print them, link their "
            f"source, or drop them): {', '.join(sorted(new))}"
        )
    stale = allowed - missing
    if stale:
        problems.append(
            f"{rel}: no longer offenders, remove them from {EXEMPTIONS.name}: "
            f"{', '.join(sorted(stale))}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(ROOT))
    paths = [pathlib.Path(a).resolve() for a in args if a.endswith(".ipynb")] or notebooks()
    exemptions = load_exemptions()
    problems = [p for path in paths for p in check(path, exemptions)]
    print("\n".join(problems) or f"notebook rules: {len(paths)} notebooks pass")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
