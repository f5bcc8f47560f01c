"""make data-push: what it refuses before touching anything."""

import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.delivery import data_push


def test_the_next_batch_number_follows_the_highest(tmp_path):
    assert data_push.next_batch(tmp_path) == 1
    for name in ("batch_001.csv", "batch_007.csv", "other.csv"):
        (tmp_path / name).write_text("a\n1\n")
    assert data_push.next_batch(tmp_path) == 8


@pytest.mark.parametrize("name", ["notes.txt", "missing.csv"])
def test_only_an_existing_csv_or_parquet_file_is_added(tmp_path, name):
    if name == "notes.txt":
        (tmp_path / name).write_text("hello\n")
    with pytest.raises(UserError, match="is not a CSV or Parquet file"):
        data_push.add_file(tmp_path / name, tmp_path / "raw")


def test_a_file_of_the_same_name_is_never_overwritten(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "new.csv").write_text("old\n")
    (tmp_path / "new.csv").write_text("new\n")
    with pytest.raises(UserError, match="already exists"):
        data_push.add_file(tmp_path / "new.csv", tmp_path / "raw")
    assert (tmp_path / "raw" / "new.csv").read_text() == "old\n"
