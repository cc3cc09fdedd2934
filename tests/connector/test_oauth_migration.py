"""Migration 0002 builds the tables oauth/models.py and RateLimitCounter describe."""
import pytest

from connector.models import RateLimitCounter
from oauth.models import MODELS


@pytest.mark.parametrize("model", [*MODELS, RateLimitCounter], ids=lambda model: model.__name__)
def test_model_matches_migrated_table(db, model):
    table = model._meta.table_name
    columns = {column.name: column for column in db.get_columns(table)}
    assert set(columns) == {field.column_name for field in model._meta.sorted_fields}
    for field in model._meta.sorted_fields:
        assert columns[field.column_name].null == field.null, field.name
    unique = {tuple(index.columns) for index in db.get_indexes(table) if index.unique}
    for field in model._meta.sorted_fields:
        if field.unique:
            assert (field.column_name,) in unique, field.name
