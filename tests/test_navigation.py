"""tfnotes.navigation: every notebook's header (prerequisite, data, run time from the benchmark,
prev/next) and footer (navigation, solutions, API links) are generated and up to date."""

import json
import pathlib
import shutil

import nbformat

from tfnotes import navigation

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _copy_course(tmp_path, seconds=12.0):
    for folder in ("chapter1", "chapter2"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("solutions.ipynb")
        )
    (tmp_path / "README.md").write_text("# course\n")
    (tmp_path / "benchmarks").mkdir()
    rows = [
        {"notebook": f"{f}", "seconds": seconds, "data": "Iris (120 train / 30 test)"}
        for f in (
            "chapter1/tf_basic_functions.ipynb",
            "chapter1/Iris_classify.ipynb",
            "chapter2/tf_basic_functions.ipynb",
        )
    ]
    (tmp_path / "benchmarks" / "results.json").write_text(
        json.dumps(
            {"machine": {"cpus_usable": 2, "date": "2026-11-28T00:00:00+00:00"}, "notebooks": rows}
        )
    )


def test_write_then_check_round_trip(tmp_path, capsys):
    _copy_course(tmp_path)
    assert navigation.main(["--check", "--root", str(tmp_path)]) in (0, 1)
    assert navigation.main(["--write", "--root", str(tmp_path)]) == 0
    assert navigation.main(["--check", "--root", str(tmp_path)]) == 0
    nb = nbformat.read(tmp_path / "chapter1" / "Iris_classify.ipynb", as_version=4)
    head, foot = nb.cells[1], nb.cells[-1]
    assert (
        navigation.HEADER_TAG in head.metadata["tags"]
        and navigation.FOOTER_TAG in foot.metadata["tags"]
    )
    # the prerequisite
    assert "[chapter1/tf_basic_functions](tf_basic_functions.ipynb)" in head.source
    assert "12 s" in head.source and "Iris (120 train / 30 test)" in head.source
    assert "[chapter2/tf_basic_functions](../chapter2/tf_basic_functions.ipynb) →" in foot.source
    assert "https://www.tensorflow.org/api_docs/python/tf/GradientTape" in foot.source
    # writing twice changes nothing (no duplicated cells)
    cells = len(nb.cells)
    navigation.main(["--write", "--root", str(tmp_path)])
    assert (
        len(nbformat.read(tmp_path / "chapter1" / "Iris_classify.ipynb", as_version=4).cells)
        == cells
    )


def test_a_new_benchmark_makes_the_headers_stale(tmp_path, capsys):
    _copy_course(tmp_path)
    navigation.main(["--write", "--root", str(tmp_path)])
    _copy_course_benchmark = json.loads((tmp_path / "benchmarks" / "results.json").read_text())
    _copy_course_benchmark["notebooks"][1]["seconds"] = 95.0
    (tmp_path / "benchmarks" / "results.json").write_text(json.dumps(_copy_course_benchmark))
    assert navigation.main(["--check", "--root", str(tmp_path)]) == 1
    assert "1.6 min" in capsys.readouterr().err


def test_method_links_point_at_the_class_page():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "ds = tf.data.Dataset.from_tensor_slices(x)\nmodel.fit(ds)\ntf.not_a_function(1)"
        )
    ]
    names = navigation.api_names(nb)
    assert names == ["data.Dataset#from_tensor_slices", "keras.Model#fit"]
    assert navigation._api_link(names[0]).endswith(
        "(https://www.tensorflow.org/api_docs/python/tf/data/Dataset#from_tensor_slices)"
    )


def test_numpy_and_pil_save_are_not_linked_as_keras_model_save():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            'np.save(path, x)\nImage.fromarray(img).save("a.png")\nmodel.save("m.keras")'
        )
    ]
    assert navigation.api_names(nb) == ["keras.Model#save"]
    nb.cells = [nbformat.v4.new_code_cell('np.save(path, x)\nImage.fromarray(img).save("a.png")')]
    assert navigation.api_names(nb) == []


def test_course_headers_and_footers_are_up_to_date():
    assert navigation.main(["--check"]) == 0, "run: python -m tfnotes.navigation --write"


def test_prerequisite_skips_solutions_and_solutions_need_their_lessons():
    order = [
        "chapter1/a.ipynb",
        "chapter1/b.ipynb",
        "chapter1/solutions.ipynb",
        "chapter2/c.ipynb",
        "chapter2/solutions.ipynb",
    ]
    assert navigation.prerequisites("chapter1/a.ipynb", order) == []
    assert navigation.prerequisites("chapter1/b.ipynb", order) == ["chapter1/a.ipynb"]
    assert navigation.prerequisites("chapter2/c.ipynb", order) == [
        "chapter1/b.ipynb"
    ]  # solutions are optional
    assert navigation.prerequisites("chapter1/solutions.ipynb", order) == [
        "chapter1/a.ipynb",
        "chapter1/b.ipynb",
    ]
    assert navigation.prerequisites("chapter2/solutions.ipynb", order) == ["chapter2/c.ipynb"]
