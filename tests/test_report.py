"""tfnotes.report: RESULT-line parser, README results table (--write/--check), and link checks over
the repo.

Two tests read the real repository and fail while it is inconsistent, by design:
``test_readme_results_block_matches_notebooks`` (README's generated table vs the notebooks' stored
outputs) and ``test_relative_links_resolve`` (every relative link in README.md, data/README.md,
benchmarks/README.md and the notebooks' Markdown cells points to an existing file).
"""

import datetime
import json
import pathlib
import re
import urllib.parse

import pytest

from tfnotes import report

ROOT = pathlib.Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------------
# synthetic notebooks
# --------------------------------------------------------------------------------------------------


def _cell(outputs=(), start=None, end=None):
    metadata = {}
    if start is not None:
        metadata["execution"] = {
            "iopub.execute_input": start,
            "iopub.status.busy": start,
            "iopub.status.idle": end,
            "shell.execute_reply": end,
        }
    return {
        "cell_type": "code",
        "execution_count": 1,
        "id": "c",
        "metadata": metadata,
        "outputs": list(outputs),
        "source": "pass",
    }


def _stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def _result_line(
    metric="test accuracy",
    value="0.876",
    expected=">= 0.870",
    data="Fashion-MNIST (60,000 / 10,000)",
):
    return f"RESULT | {metric} = {value} | expected {expected} | data: {data}\n"


def write_nb(path, cells):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = {
        "cells": [{"cell_type": "markdown", "id": "t", "metadata": {}, "source": "# T"}] + cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


T0 = datetime.datetime(2026, 11, 27, 12, 0, 1, 500000)


def good_nb(path, value="0.876", seconds_last=28.4, data="Fashion-MNIST (60,000 / 10,000)"):
    """Three code cells from 12:00:01.5 to 12:00:01.5 + 1 + seconds_last … as nbclient stores
    them."""
    return write_nb(
        path,
        [
            _cell(
                [_stream("setup line\n")],
                "2026-11-27T12:00:01.500000Z",
                "2026-11-27T12:00:02.000000Z",
            ),
            _cell([], "2026-11-27T12:00:02.100000Z", "2026-11-27T12:00:05.000000Z"),
            _cell(
                [_stream(["some text\n", _result_line(value=value, data=data)])],
                "2026-11-27T12:00:05.100000Z",
                (T0 + datetime.timedelta(seconds=seconds_last)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            ),
        ],
    )


# --------------------------------------------------------------------------------------------------
# expect_result output is what the parser reads
# --------------------------------------------------------------------------------------------------


def test_expect_result_line_parses(capsys):
    report.expect_result(
        "|grad − analytic| at w=3",
        2e-6,
        data="synthetic | tensors\n(no dataset)",
        at_most=1e-4,
        digits=6,
    )
    line = capsys.readouterr().out.strip()
    match = report.RESULT_RE.match(line)
    assert match, line
    assert match["metric"] == "|grad − analytic| at w=3"
    assert match["value"] == "0.000002"
    assert match["expected"] == "<= 0.000100"
    assert match["data"] == "synthetic | tensors (no dataset)"


# --------------------------------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------------------------------


def test_parse_notebook_reads_result_and_timing(tmp_path):
    path = good_nb(tmp_path / "chapter3" / "fashion.ipynb", seconds_last=28.4)
    r = report.parse_notebook(path, tmp_path)
    assert r.path == "chapter3/fashion.ipynb"
    assert (r.metric, r.value, r.expected) == ("test accuracy", "0.876", ">= 0.870")
    assert r.data == "Fashion-MNIST (60,000 / 10,000)"
    assert r.seconds == pytest.approx(28.4)  # last shell.execute_reply - first iopub.execute_input


def test_parse_notebook_timing_spans_minutes(tmp_path):
    path = write_nb(
        tmp_path / "a.ipynb",
        [
            _cell([], "2026-11-27T12:58:50.000000Z", "2026-11-27T12:59:00.000000Z"),
            _cell(
                [_stream(_result_line())],
                "2026-11-27T12:59:00.000000Z",
                "2026-11-27T13:02:20.000000Z",
            ),
            _cell([]),  # a cell without timing (e.g. never executed metadata) is ignored for timing
        ],
    )
    assert report.parse_notebook(path, tmp_path).seconds == pytest.approx(210.0)


def test_parse_notebook_missing_result(tmp_path):
    path = write_nb(
        tmp_path / "chapter1" / "no_result.ipynb",
        [_cell([_stream("RESULTS are nice\n")], "2026-11-27T12:00:00Z", "2026-11-27T12:00:01Z")],
    )
    with pytest.raises(report.ReportError, match=r"chapter1/no_result\.ipynb: no 'RESULT \|' line"):
        report.parse_notebook(path, tmp_path)


def test_parse_notebook_duplicate_result(tmp_path):
    path = write_nb(
        tmp_path / "dup.ipynb",
        [
            _cell([_stream(_result_line())], "2026-11-27T12:00:00Z", "2026-11-27T12:00:01Z"),
            _cell(
                [_stream(_result_line(value="0.880"))],
                "2026-11-27T12:00:01Z",
                "2026-11-27T12:00:02Z",
            ),
        ],
    )
    with pytest.raises(report.ReportError, match=r"dup\.ipynb: 2 'RESULT \|' lines"):
        report.parse_notebook(path, tmp_path)


def test_parse_notebook_error_output(tmp_path):
    error = {
        "output_type": "error",
        "ename": "AssertionError",
        "evalue": "accuracy too low",
        "traceback": [],
    }
    path = write_nb(
        tmp_path / "err.ipynb",
        [
            _cell([_stream(_result_line())], "2026-11-27T12:00:00Z", "2026-11-27T12:00:01Z"),
            _cell([error], "2026-11-27T12:00:01Z", "2026-11-27T12:00:02Z"),
        ],
    )
    with pytest.raises(
        report.ReportError, match=r"err\.ipynb: code cell 2 has an error output \(AssertionError"
    ):
        report.parse_notebook(path, tmp_path)


def test_parse_notebook_without_timing(tmp_path):
    path = write_nb(tmp_path / "untimed.ipynb", [_cell([_stream(_result_line())])])
    with pytest.raises(report.ReportError, match=r"untimed\.ipynb: no execution timing"):
        report.parse_notebook(path, tmp_path)


def test_parse_notebook_malformed_result(tmp_path):
    path = write_nb(
        tmp_path / "bad.ipynb",
        [
            _cell(
                [_stream("RESULT | accuracy 0.9\n")], "2026-11-27T12:00:00Z", "2026-11-27T12:00:01Z"
            )
        ],
    )
    with pytest.raises(
        report.ReportError, match=r"bad\.ipynb: result line not in the expect_result format"
    ):
        report.parse_notebook(path, tmp_path)


# --------------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.2, "1 s"),
        (4.5, "5 s"),
        (28.4, "28 s"),
        (59.4, "59 s"),
        (59.6, "1.0 min"),
        (210, "3.5 min"),
        (1200, "20.0 min"),
    ],
)
def test_format_seconds(seconds, text):
    assert report.format_seconds(seconds) == text


def test_link_encodes_spaces_and_is_relative():
    assert (
        report.link("bert_exp/Fine tune BERT.ipynb")
        == "[bert_exp/Fine tune BERT](bert_exp/Fine%20tune%20BERT.ipynb)"
    )
    assert (
        report.link("chapter1/Iris_classify.ipynb", "benchmarks")
        == "[chapter1/Iris_classify](../chapter1/Iris_classify.ipynb)"
    )


def test_course_order():
    paths = [
        "bert_exp/Fine tune BERT.ipynb",
        "chapter10/a.ipynb",
        "chapter2/tf_basic_functions.ipynb",
        "chapter1/zzz_new.ipynb",
        "bert_exp/text_classification_with_BERT.ipynb",
        "chapter1/Iris_classify.ipynb",
        "chapter1/tf_basic_functions.ipynb",
        "chapter3/fashion_dataset_exp.ipynb",
        "chapter3/mnist_dataset_exp.ipynb",
        "chapter3/keras_basic_step.ipynb",
        "chapter1/aaa_new.ipynb",
    ]
    assert sorted(paths, key=report.course_key) == [
        "chapter1/tf_basic_functions.ipynb",
        "chapter1/Iris_classify.ipynb",
        "chapter1/aaa_new.ipynb",
        "chapter1/zzz_new.ipynb",  # not in the outline: after it, alphabetical
        "chapter2/tf_basic_functions.ipynb",
        "chapter3/keras_basic_step.ipynb",
        "chapter3/mnist_dataset_exp.ipynb",
        "chapter3/fashion_dataset_exp.ipynb",
        "chapter10/a.ipynb",  # numeric, not lexical, chapter order
        "bert_exp/text_classification_with_BERT.ipynb",
        "bert_exp/Fine tune BERT.ipynb",
    ]


def test_render_table(tmp_path):
    good_nb(
        tmp_path / "bert_exp" / "Fine tune BERT.ipynb",
        value="0.600",
        seconds_last=210,
        data="pairs | offline",
    )
    good_nb(tmp_path / "chapter1" / "a.ipynb", value="0.950", seconds_last=28.4)
    results = report.collect(tmp_path)
    assert [r.path for r in results] == ["chapter1/a.ipynb", "bert_exp/Fine tune BERT.ipynb"]
    lines = report.render_table(results).splitlines()
    assert lines[0].startswith("| 笔记本 / Notebook |") and set(lines[1]) <= set("|-: ")
    assert lines[2] == (
        "| [chapter1/a](chapter1/a.ipynb) | Fashion-MNIST (60,000 / 10,000) | 28 s | "
        "test accuracy = **0.950** (expected >= 0.870) |  |"
    )
    assert lines[3] == (
        "| [bert_exp/Fine tune BERT](bert_exp/Fine%20tune%20BERT.ipynb) | pairs \\| offline | 3.5 "
        "min | "
        "test accuracy = **0.600** (expected >= 0.870) |  |"
    )
    assert lines[4] == "| **合计 / Total** (2 notebooks) | | **4.0 min** | | |"
    # escaped pipes: 5 columns
    assert all(line.count(" | ") + 2 == lines[0].count("|") for line in lines[2:4])


def test_exercises_column_counts_and_links_solutions(tmp_path):
    good_nb(tmp_path / "chapter1" / "a.ipynb")
    good_nb(tmp_path / "chapter1" / "solutions.ipynb")
    nb = json.loads((tmp_path / "chapter1" / "a.ipynb").read_text())
    nb["cells"].append(
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "## 小结 / Summary\n1. not an exercise\n\n## 练习 / Exercises\n1. one\n2. "
            "two\n"
            "   still two\n3. three\n\n## 下一步\n1. not counted",
        }
    )
    (tmp_path / "chapter1" / "a.ipynb").write_text(json.dumps(nb))
    results = {r.path: r for r in report.collect(tmp_path)}
    assert results["chapter1/a.ipynb"].exercises == 3
    assert results["chapter1/a.ipynb"].solutions == "chapter1/solutions.ipynb"
    assert results["chapter1/solutions.ipynb"].solutions is None
    table = report.render_table(report.collect(tmp_path))
    assert "| 3 · [答案 / solutions](chapter1/solutions.ipynb) |" in table


def test_collect_reports_every_broken_notebook(tmp_path):
    good_nb(tmp_path / "chapter1" / "ok.ipynb")
    write_nb(
        tmp_path / "chapter2" / "x.ipynb",
        [_cell([], "2026-11-27T12:00:00Z", "2026-11-27T12:00:01Z")],
    )
    write_nb(
        tmp_path / "chapter3" / "y.ipynb",
        [_cell([], "2026-11-27T12:00:00Z", "2026-11-27T12:00:01Z")],
    )
    with pytest.raises(report.ReportError) as info:
        report.collect(tmp_path)
    assert "chapter2/x.ipynb" in str(info.value) and "chapter3/y.ipynb" in str(info.value)
    assert "chapter1/ok.ipynb" not in str(info.value)


# --------------------------------------------------------------------------------------------------
# --write / --check
# --------------------------------------------------------------------------------------------------

README = """# Course

intro

<!-- results:start -->
old table
<!-- results:end -->

after
"""


def test_write_check_round_trip(tmp_path, capsys):
    good_nb(tmp_path / "chapter1" / "a.ipynb", value="0.950")
    good_nb(tmp_path / "bert_exp" / "Fine tune BERT.ipynb", value="0.600", seconds_last=210)
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    root = ["--root", str(tmp_path)]

    assert report.main(["--check", str(readme)] + root) == 1  # stale block: diff, non-zero
    out = capsys.readouterr().out
    assert "-old table" in out and "+| [chapter1/a](chapter1/a.ipynb)" in out

    assert report.main(["--write", str(readme)] + root) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Course\n\nintro\n\n<!-- results:start -->\n") and text.endswith(
        "<!-- results:end -->\n\nafter\n"
    )
    assert "old table" not in text and "(bert_exp/Fine%20tune%20BERT.ipynb)" in text
    assert report.main(["--check", str(readme)] + root) == 0

    assert report.main(["--write", str(readme)] + root) == 0  # idempotent
    assert readme.read_text(encoding="utf-8") == text

    # a notebook re-run changes its result
    good_nb(tmp_path / "chapter1" / "a.ipynb", value="0.951")
    capsys.readouterr()
    assert report.main(["--check", str(readme)] + root) == 1
    out = capsys.readouterr().out
    assert "-| [chapter1/a](chapter1/a.ipynb)" in out and "**0.951**" in out


def test_print_table(tmp_path, capsys):
    good_nb(tmp_path / "chapter1" / "a.ipynb")
    assert report.main(["--root", str(tmp_path)]) == 0
    assert "| [chapter1/a](chapter1/a.ipynb) |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text",
    [
        "# no markers\n",
        "<!-- results:start -->\n",
        "<!-- results:end -->\nx\n<!-- results:start -->\n",
        "<!-- results:start -->\n<!-- results:start -->\n<!-- results:end -->\n",
    ],
)
def test_markers_required(tmp_path, capsys, text):
    good_nb(tmp_path / "chapter1" / "a.ipynb")
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    for mode in ("--write", "--check"):
        assert report.main([mode, str(readme), "--root", str(tmp_path)]) == 2
        assert "results:" in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == text  # untouched


def test_broken_notebook_is_an_error_not_a_table(tmp_path, capsys):
    write_nb(
        tmp_path / "chapter1" / "a.ipynb",
        [_cell([], "2026-11-27T12:00:00Z", "2026-11-27T12:00:01Z")],
    )
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    assert report.main(["--write", str(readme), "--root", str(tmp_path)]) == 2
    assert "chapter1/a.ipynb: no 'RESULT |' line" in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == README


def test_readme_results_block_matches_notebooks():
    """README.md's results table is what the stored notebooks say (run `python -m tfnotes.report
    --write README.md`)."""
    try:
        diff = report.check_block(ROOT / "README.md", ROOT)
    except report.ReportError as exc:
        pytest.fail(f"README.md results block cannot be checked:\n{exc}")
    assert not diff, (
        "README.md results block is out of date; run: python -m tfnotes.report --write README.md\n"
        + diff
    )


# --------------------------------------------------------------------------------------------------
# relative links
# --------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)[^`].*?\1", re.S)
_INLINE = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(\s+[\"'(][^)]*)?\)"
)
# unencoded spaces
_BROKEN_INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(([^)<]*\s[^)]*?)\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.M)
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)


def markdown_links(text):
    """Link targets in Markdown text (inline, images, reference definitions, HTML href/src), code
    excluded. Targets with unencoded spaces (which GitHub does not render as links) are returned as
    ``(" bad",
    target)``."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    targets = [m.group(1) for m in _INLINE.finditer(text)]
    targets += [m.group(1) for m in _REFERENCE.finditer(text)] + [
        m.group(1) for m in _HTML.finditer(text)
    ]
    for m in _BROKEN_INLINE.finditer(text):
        target = m.group(1).strip()
        if not re.fullmatch(r"\S+\s+[\"'(].*", target):  # not a link title
            targets.append(("space", target))
    return targets


def broken_links(text, base: pathlib.Path, root: pathlib.Path):
    """Return the relative link targets in ``text`` that do not resolve to an existing file or
    folder."""
    broken = []
    for target in markdown_links(text):
        if isinstance(target, tuple):
            broken.append(f"{target[1]} (unencoded space: write %20)")
            continue
        target = target.strip("<>")
        if not target or target.startswith("#") or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # same-page anchor, http(s)/mailto/… links
        path = urllib.parse.unquote(target.split("#", 1)[0].split("?", 1)[0])
        resolved = (root / path.lstrip("/")) if path.startswith("/") else (base / path)
        if not resolved.exists():
            broken.append(target)
    return broken


def test_link_checker_finds_broken_links(tmp_path):
    (tmp_path / "chapter1").mkdir()
    (tmp_path / "chapter1" / "Fine tune.ipynb").write_text("{}")
    text = """
[ok](chapter1/Fine%20tune.ipynb#sec) ![img](chapter1/) [web](https://example.com/x)
[mail](mailto:a@b.c) [a](#top)
[titled](chapter1/Fine%20tune.ipynb "title") [angle](<chapter1/Fine tune.ipynb>)
[**bold**](chapter1)
[missing](chapter1/nope.ipynb) [spaces](chapter1/Fine tune.ipynb) <a href="gone.md">x</a>
[ref]: missing/ref.md
`[code](not/checked.md)`
```
[fenced](not/checked/either.md)
```
"""
    assert broken_links(text, tmp_path, tmp_path) == [
        "chapter1/nope.ipynb",
        "missing/ref.md",
        "gone.md",
        "chapter1/Fine tune.ipynb (unencoded space: write %20)",
    ]


def _link_sources():
    for name in ("README.md", "CONTRIBUTING.md", "data/README.md", "benchmarks/README.md"):
        path = ROOT / name
        yield (
            name,
            path.parent,
            (path.read_text(encoding="utf-8") if path.exists() else f"[{name}]({path.name})"),
        )
    for path in report.find_notebooks(ROOT):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
        text = "\n\n".join("".join(c["source"]) for c in cells)
        yield path.relative_to(ROOT).as_posix(), path.parent, text


def test_relative_links_resolve():
    """Every relative link in the READMEs and in the notebooks' Markdown cells points to an existing
    file."""
    problems = [
        f"{name}: {target}"
        for name, base, text in _link_sources()
        for target in broken_links(text, base, ROOT)
    ]
    assert not problems, f"{len(problems)} broken relative link(s):\n" + "\n".join(problems)


def test_expect_result_drops_machine_specific_paths(capsys):
    report.expect_result(
        "test accuracy",
        0.9,
        at_least=0.5,
        data="Fashion-MNIST, Debian dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) "
        "(6,000 train / 5,000 test)",
    )
    line = capsys.readouterr().out
    assert "/usr/share" not in line
    assert line.rstrip().endswith(
        "data: Fashion-MNIST, Debian dataset-fashion-mnist (6,000 train / 5,000 test)"
    )
