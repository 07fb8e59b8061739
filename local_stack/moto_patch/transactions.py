"""TransactWriteItems with an undo log of the items it touches, not copies of whole tables.

moto 5.2.5 deep-copies every table a transaction names, once per item of the
transaction, and on failure puts the copies in place of the tables. This module runs the
same steps in the same order (the same conditions, the same cancellation reasons, the
same exceptions), but before each write it keeps a copy of just the one item the write
is about to change, and on failure puts those items back, newest first. Stream records
written by a rolled-back transaction are removed too, so a rolled-back transaction
leaves no trace, as it did when moto swapped the whole table back.

Two differences from moto, both towards DynamoDB's own behaviour:

- the tables stay the same objects, so a stream shard iterator taken before a failed
  transaction still sees later records (with moto, it kept reading the discarded copy);
- any exception rolls back, not only the ones moto anticipates (moto left the earlier
  writes of a transaction in place if, say, an item named two operations).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from local_stack.moto_patch import is_active
from local_stack.moto_patch.indexes import tracking
from local_stack.moto_patch.streams import stream_position, truncate_stream

_original_transact_write_items = DynamoDBBackend.transact_write_items


@dataclass
class _Undo:
    """One item as it was before the transaction wrote it (None: it did not exist)."""

    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    before: Item | None


class UndoLog:
    """What a transaction changed, enough to put it back exactly."""

    def __init__(self) -> None:
        self._undo: list[_Undo] = []
        self._streams: dict[int, tuple[Table, int]] = {}

    def remember(self, table: Table, key: dict[str, Any]) -> None:
        """Keep the item ``key`` names (and the table's stream position) before a write."""
        if id(table) not in self._streams:
            self._streams[id(table)] = (table, stream_position(table))
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_key, range_key)
        # UpdateItem changes the stored item in place, so keep a copy, not a reference.
        self._undo.append(_Undo(table, hash_key, range_key, copy.deepcopy(current)))

    def roll_back(self) -> None:
        """Put every remembered item back, newest first, and drop the stream records."""
        for undo in reversed(self._undo):
            table = undo.table
            with tracking(table, undo.hash_key, undo.range_key):
                if table.range_key_attr:
                    partition = table.items[undo.hash_key]
                    if undo.before is None:
                        partition.pop(undo.range_key, None)
                        if not partition:
                            del table.items[undo.hash_key]
                    else:
                        partition[undo.range_key] = undo.before
                elif undo.before is None:
                    table.items.pop(undo.hash_key, None)
                else:
                    table.items[undo.hash_key] = undo.before  # type: ignore[assignment]
        for table, position in self._streams.values():
            truncate_stream(table, position)
        self._undo.clear()


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's ``transact_write_items`` with an undo log instead of table copies."""
    if not is_active():
        _original_transact_write_items(self, transact_items)
        return
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = UndoLog()
    try:
        _apply(self, transact_items, undo)
    except BaseException:
        undo.roll_back()
        raise


def _apply(  # noqa: PLR0912, PLR0915 - moto's function, kept step for step to compare
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]], undo: UndoLog
) -> None:
    # The body of moto's loop, unchanged but for the snapshot and the rollback.
    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = backend.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)

            current = backend.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type != "ConditionCheck":
                undo.remember(backend.get_table(table_name), key)
            if op_type == "Put":
                backend.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                backend.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                backend.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise  # rolled back by the caller, as moto does
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # noqa: BLE001 - moto turns every failure into a reason
            errors.append((type(e).__name__, str(e), original_item))

    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)


def install() -> None:
    """Replace moto's transact_write_items."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
