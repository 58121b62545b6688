"""The notebook rules (tests/notebook_rules.py) and ruff over the notebooks and Python files."""

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import notebook_rules as rules  # noqa: E402

ROOT = rules.ROOT
NOTEBOOKS = rules.notebooks()
BIN = pathlib.Path(sys.executable).parent


def _nb(markdown: str, code: str = "", output: str = "", name: str = "stdout") -> dict:
    cell = {"cell_type": "code", "source": code, "metadata": {}, "outputs": []}
    if output:
        cell["outputs"] = [{"output_type": "stream", "name": name, "text": output}]
    return {"cells": [{"cell_type": "markdown", "source": markdown, "metadata": {}}, cell]}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_rules(path):
    """Markdown numbers come from the notebook's own outputs or code; no stderr in stored
    outputs."""
    problems = rules.check(path, rules.load_exemptions())
    assert not problems, "\n".join(problems)


def test_exemptions_name_only_course_notebooks():
    known = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    assert set(rules.load_exemptions()) <= known


def test_number_rule_reads_outputs_and_code_not_comments():
    nb = _nb(
        "准确率 0.933，共 60,000 张，学习率 0.001。", "lr = 1e-3  # 60000 images", "acc 0.9330\n"
    )
    assert rules.unsupported_numbers(nb) == ["60,000"]  # 0.933 = output 0.9330, 0.001 = 1e-3
    assert rules.unsupported_numbers(_nb("共 60,000 张", "n = 60_000 if False else 60000")) == []


@pytest.mark.parametrize(
    "text",
    [
        "TensorFlow 2.20 与 Keras 3 的区别",
        "见 [d2l](https://d2l.ai/chapter_convolutional-neural-networks/lenet.html)：LeNet 0.828。",
        "## 3. 模型 / Model",
        "第 2 章里讲过",
        "练习 4 的答案",
        "公式 $y = 2x + 1$ 的斜率",
        "版本 2.20.0 起",
    ],
)
def test_number_rule_exemptions(text):
    assert rules.unsupported_numbers(_nb(text)) == []


@pytest.mark.parametrize("text", ["训练 8 个 epoch", "从 1.1 s 到 2.1 s", "第 5 个 epoch 最好"])
def test_number_rule_flags_typed_numbers(text):
    assert rules.unsupported_numbers(_nb(text))


@pytest.mark.parametrize(
    "markdown, code",
    [
        ("用 10 万个样本画直方图", "x = tf.random.normal([100_000])"),
        ("模型只在前 80% 上训练", "n_train = int(len(x) * 0.8)"),
        ("留出 20 % 做验证", "split = 0.2"),
    ],
)
def test_number_rule_reads_chinese_multipliers_and_percentages(markdown, code):
    assert rules.unsupported_numbers(_nb(markdown, code)) == []


@pytest.mark.parametrize(
    "markdown, code, output",
    [
        ("准确率约 0.93", "", "test accuracy 0.9330\n"),
        ("准确率 93%", "", "test accuracy 0.933\n"),
        ("用了 60k 张图", "n = 60_000", ""),
        ("形状 (60000,784)", "", "(60000, 784)\n"),
        ("dropout 一半", "rate = .5", ""),
        ("需要 Python ≥ 3.11", "", ""),
        ("$$\nL = \\frac{1}{2}\n$$", "", ""),
        ('见 <a href="https://arxiv.org/abs/1512.03385">ResNet</a>：152 层', "", ""),
        ("```python\n# 2 layers\nmodel.fit(x, epochs=30)\n```", "", ""),
    ],
)
def test_number_rule_accepts(markdown, code, output):
    assert rules.unsupported_numbers(_nb(markdown, code, output)) == []


@pytest.mark.parametrize(
    "markdown, code, output, flagged",
    [
        ("准确率约 0.9", "", "test accuracy 0.933\n", ["0.9"]),  # one decimal: no rounding allowed
        ("dev 3 个样本", "", "", ["3"]),
        ("取值 [0.1, 0.9]", "", "", ["0.1", "0.9"]),
        ("形状 (60000,784)", "", "(60000, 28)\n", ["784"]),
    ],
)
def test_number_rule_flags(markdown, code, output, flagged):
    assert rules.unsupported_numbers(_nb(markdown, code, output)) == flagged


def test_exercise_prompts_are_not_claims():
    text = "训练 5 个 epoch。\n\n## 练习 / Exercises\n1. 把学习率改成 0.5 和 0.01，损失怎样变化？"
    assert rules.unsupported_numbers(_nb(text, "epochs = 5")) == []
    assert rules.unsupported_numbers(_nb(text)) == ["5"]


def test_list_markers_are_structure_not_numbers():
    assert rules.unsupported_numbers(_nb("1. 读数据\n2. 建模型\n7. 预测波动率")) == []
    assert rules.unsupported_numbers(_nb("7. 训练 8 个 epoch")) == ["8"]


def test_generated_cells_are_not_read():
    nb = _nb("> 默认运行时间 4 s")
    nb["cells"][0]["metadata"]["tags"] = ["course-header"]
    assert rules.unsupported_numbers(nb) == []


def test_stderr_rule_and_exemption_bookkeeping(tmp_path):
    path = tmp_path / "chapter1" / "probe.ipynb"
    path.parent.mkdir()
    nb = _nb("共 8 个 epoch", output="E0000 something failed\n", name="stderr")
    path.write_text(json.dumps(nb), encoding="utf-8")
    problems = rules.check(path, {}, root=tmp_path)
    assert any("stderr in stored output" in p for p in problems)
    assert any("in no output or code" in p and ": 8" in p for p in problems)
    rel = "chapter1/probe.ipynb"
    assert not [
        p for p in rules.check(path, {rel: ["8"]}, root=tmp_path) if "no output or code" in p
    ]
    stale = rules.check(path, {rel: ["8", "9"]}, root=tmp_path)
    assert any("no longer offenders" in p and "9" in p for p in stale)


def _ruff(*args):
    ruff = shutil.which("ruff", path=str(BIN)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: bash course.sh install"
    return subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_is_clean():
    result = _ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_ruff_format_is_applied():
    result = _ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, f"run `.venv/bin/ruff format .`:\n{result.stdout[-3000:]}"


def test_ruff_reads_the_notebooks():
    """The notebooks are part of what ruff checks (not excluded), so the two tests above cover
    them."""
    result = _ruff("check", "--no-cache", "--show-files", ".")
    assert "chapter3/keras_basic_step.ipynb" in result.stdout
