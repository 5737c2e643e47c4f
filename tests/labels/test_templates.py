"""Templates: built-ins, user files in JSON and TOML, errors that name the field."""

from __future__ import annotations

import json

import pytest

from serialtrace.labels import LabelError, LabelTemplate, builtin_templates, load_template


def test_builtin_templates_have_the_promised_names_and_sizes():
    templates = builtin_templates()
    assert set(templates) == {"roll-50x25", "a4-3x8", "4x2in"}
    assert (templates["roll-50x25"].width_mm, templates["roll-50x25"].height_mm) == (50, 25)
    assert templates["a4-3x8"].sheet.per_page == 24
    assert (templates["4x2in"].width_mm, templates["4x2in"].height_mm) == (101.6, 50.8)


def test_toml_template_loads(tmp_path):
    path = tmp_path / "shelf.toml"
    path.write_text(
        'name = "shelf"\nwidth_mm = 60\nheight_mm = 30\ndpi = 300\nsymbol = "gs1-qr"\n'
        'lines = ["product", "serial"]\n'
        "[sheet]\npage_width_mm = 210\npage_height_mm = 297\ncolumns = 3\nrows = 9\n"
    )
    template = load_template(path)
    assert template == LabelTemplate(name="shelf", width_mm=60, height_mm=30, dpi=300, symbol="gs1-qr",
                                     lines=("product", "serial"), sheet=template.sheet)
    assert template.sheet.columns == 3


def test_json_template_loads(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"name": "j", "width_mm": 40, "height_mm": 20, "symbol": "code128", "lines": []}))
    assert load_template(path).symbol == "code128"


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        ({"name": "x", "width_mm": 50, "height_mm": 25, "colour": "red"}, "colour", "unknown template field"),
        ({"name": "x", "width_mm": 50}, "height_mm", "is required"),
        ({"name": "x", "width_mm": -5, "height_mm": 25}, "width_mm", "positive number"),
        ({"name": "x", "width_mm": 50, "height_mm": 25, "dpi": 250}, "dpi", "203, 300, 600"),
        ({"name": "x", "width_mm": 50, "height_mm": 25, "symbol": "aztec"}, "symbol", "must be one of"),
        ({"name": "x", "width_mm": 50, "height_mm": 25, "lines": ["serial", "colour"]}, "lines[1]", "unknown field"),
        ({"name": "x", "width_mm": 50, "height_mm": 25, "sheet": {"page_width_mm": 100, "page_height_mm": 100,
                                                                  "columns": 3, "rows": 1}},
         "sheet.columns", "do not fit across"),
        ({"name": "x", "width_mm": 50, "height_mm": 25, "sheet": {"page_width_mm": 100, "page_height_mm": 100,
                                                                  "columns": 1, "rows": 1, "gutter": 1}},
         "sheet.gutter", "unknown sheet field"),
        ({"name": "x", "width_mm": 50, "height_mm": 25, "symbol": "gs1-128", "linear": "code128"},
         "linear", "cannot add a second"),
    ],
)
def test_bad_template_names_the_field_and_the_rule(tmp_path, data, field, rule):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(LabelError) as info:
        load_template(path)
    assert info.value.field == field
    assert rule in info.value.rule
    assert str(info.value).startswith(field)


def test_unparseable_toml_is_a_label_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(LabelError, match="not valid TOML"):
        load_template(path)


def test_other_file_types_are_refused(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: x")
    with pytest.raises(LabelError, match=r"\.json or \.toml"):
        load_template(path)
