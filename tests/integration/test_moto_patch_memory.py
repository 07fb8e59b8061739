"""Memory per write must not grow as the table grows (moto used to leak a table copy per
transaction: memory grew with the square of the writes).

Measured as the Python objects still allocated (``sys.getallocatedblocks``, free to read,
unlike tracemalloc which slows every allocation) after the first and the third window of
350 ticket creates, each a three-item transaction through the real repository (1,050 item
writes a window), against the patched moto server in this process. A ratio, not a size:
absolute numbers depend on the machine. (On plain moto the third window keeps several
times what the first did: docs/local-stack.md.)
"""

from __future__ import annotations

import gc
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.data.lists import ListSpec
from chalicelib.data.repository import DynamoTicketRepository
from chalicelib.domain import Category, Priority, Status, Ticket
from tests.conftest import create_keyed_table

WINDOW = 350  # ticket creates: 1,050 item writes
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _ticket(n: int) -> Ticket:
    at = T0 + timedelta(seconds=n)
    return Ticket(
        id=f"{n:024x}",
        title=f"Ticket {n}: cannot download the invoice",
        description=f"Details for ticket {n}: the invoice PDF link returns an error.",
        category=list(Category)[n % 4],
        priority=list(Priority)[n // 4 % 4],
        status=list(Status)[n // 16 % 4],
        created_at=at,
        updated_at=at,
        version=1,
    )


def _create(repository: DynamoTicketRepository, numbers: range) -> None:
    for n in numbers:
        repository.create(_ticket(n), "customer")


def _growth(repository: DynamoTicketRepository, numbers: range) -> int:
    """How many more objects are allocated after creating these tickets than before."""
    gc.collect()
    before = sys.getallocatedblocks()
    _create(repository, numbers)
    gc.collect()
    return sys.getallocatedblocks() - before


def test_memory_per_write_stays_flat_as_the_table_grows(table: str) -> None:
    # Given a ticket table whose list indexes have been queried (so they are maintained)
    repository = DynamoTicketRepository(counter_shards=8)
    assert repository.list_page(ListSpec(), 10, None).tickets == []

    # When the first, second and third windows of tickets are created
    first = _growth(repository, range(WINDOW))
    _create(repository, range(WINDOW, 2 * WINDOW))
    third = _growth(repository, range(2 * WINDOW, 3 * WINDOW))

    # Then the third window kept no more memory than the first (with room for noise)
    assert first > 0
    assert third <= 1.5 * first, (first, third)
    # And the indexes still answer from the whole table
    page = repository.list_page(ListSpec({"category": frozenset({"billing"})}), 5, None)
    assert len(page.tickets) == 5
    newest_billing = max(n for n in range(3 * WINDOW) if _ticket(n).category is Category.BILLING)
    assert page.tickets[0].id == _ticket(newest_billing).id


def test_items_with_equal_keys_share_one_key_object(table: str) -> None:
    # Given the 30 search postings of one ticket (one sort key, 30 partitions), and a
    # second posting in each partition
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.data.models import PostingModel

    ticket_sk = "2026-03-01T00:00:00.000000Z#" + "a" * 24
    other_sk = "2026-03-02T00:00:00.000000Z#" + "b" * 24
    terms = [f"IX#term{n:02d}" for n in range(30)]
    with PostingModel.batch_write() as batch:
        for term in terms:
            batch.save(PostingModel(term, ticket_sk))
            batch.save(PostingModel(term, other_sk))

    # When moto has stored them
    stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
    partitions = [stored.items[key] for key in stored.items if key.value in terms]
    assert len(partitions) == 30
    postings = [item for partition in partitions for item in partition.values()]

    # Then the ticket's postings hold one sort-key object, shared by the item, its
    # attribute and its partition's dict key
    mine = [item for item in postings if item.range_key.value == ticket_sk]
    assert len(mine) == 30
    assert len({id(item.range_key) for item in mine}) == 1
    assert all(item.attrs["sk"] is item.range_key for item in mine)
    assert all(
        any(key is item.range_key for key in p) for p, item in zip(partitions, mine, strict=True)
    )
    # And each partition's two postings share one partition-key object
    for partition in partitions:
        first, second = partition.values()
        assert first.hash_key is second.hash_key is first.attrs["pk"]
    # And reads see every posting, in order
    assert [p.sk for p in PostingModel.query(terms[0])] == [ticket_sk, other_sk]


def test_items_of_keys_alone_are_stored_without_an_attribute_dict(table: str) -> None:
    # Given search postings (keys alone) and one item with more than its keys
    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from chalicelib.data.models import PostingModel
    from local_stack.moto_patch.memory import KeyOnlyItem

    sks = [f"2026-03-0{n}T00:00:00.000000Z#" + str(n) * 24 for n in range(1, 4)]
    with PostingModel.batch_write() as batch:
        for sk in sks:
            batch.save(PostingModel("IX#refund", sk))
    client = boto3.client("dynamodb")
    client.put_item(
        TableName=table, Item={"pk": {"S": "IX#refund"}, "sk": {"S": "x"}, "n": {"N": "1"}}
    )

    # When moto has stored them
    stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
    partition = next(items for key, items in stored.items.items() if key.value == "IX#refund")

    # Then the postings keep no attribute dict of their own; the other item does
    kinds = {key.value: type(item) for key, item in partition.items()}
    assert all(issubclass(kinds[sk], KeyOnlyItem) for sk in sks)
    assert not issubclass(kinds["x"], KeyOnlyItem)
    assert all("attrs" not in partition[key].__dict__ for key in partition if key.value in sks)
    # And the partition holds no object per posting: its sort key alone
    raw = {key.value: dict.__getitem__(partition, key) for key in partition}
    assert all(type(raw[sk]) is DynamoType and raw[sk].value == sk for sk in sks)
    assert isinstance(raw["x"], Item)
    # And they read back whole, in order
    assert [p.sk for p in PostingModel.query("IX#refund")] == [*sks, "x"]
    key = {"pk": {"S": "IX#refund"}, "sk": {"S": sks[0]}}
    assert client.get_item(TableName=table, Key=key)["Item"] == key

    # When one is updated in place (UpdateItem changes moto's stored item)
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "kept"}},
        ConditionExpression="attribute_exists(pk)",
    )

    # Then it holds the new attribute, as a plain item
    assert client.get_item(TableName=table, Key=key)["Item"] == {**key, "note": {"S": "kept"}}
    assert not isinstance(partition[next(k for k in partition if k.value == sks[0])], KeyOnlyItem)

    # When the attribute is removed again, it is stored compactly again
    client.update_item(TableName=table, Key=key, UpdateExpression="REMOVE note")
    assert isinstance(partition[next(k for k in partition if k.value == sks[0])], KeyOnlyItem)
    assert client.get_item(TableName=table, Key=key)["Item"] == key

    # When one is deleted, and the table is backed up and restored
    client.delete_item(TableName=table, Key={"pk": {"S": "IX#refund"}, "sk": {"S": sks[1]}})
    backup = client.create_backup(TableName=table, BackupName="postings")
    arn = backup["BackupDetails"]["BackupArn"]
    client.restore_table_from_backup(TargetTableName=f"{table}-restored", BackupArn=arn)

    # Then both tables read the same items in the same order
    for name in (table, f"{table}-restored"):
        pages = client.query(
            TableName=name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "IX#refund"}},
        )
        assert [i["sk"]["S"] for i in pages["Items"]] == [sks[0], sks[2], "x"]
    client.delete_table(TableName=f"{table}-restored")


def test_recurring_short_scalars_are_one_object_and_an_update_changes_one_item(
    table: str,
) -> None:
    # Given two items with the same short values
    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    client = boto3.client("dynamodb")
    for pk in ("SCALAR#1", "SCALAR#2"):
        client.put_item(
            TableName=table,
            Item={
                "pk": {"S": pk},
                "sk": {"S": "X"},
                "status": {"S": "open"},
                "n": {"N": "1"},
                "flag": {"BOOL": True},
                "tags": {"SS": ["a", "b"]},
            },
        )
    stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
    first, second = (
        next(items for key, items in stored.items.items() if key.value == pk)
        for pk in ("SCALAR#1", "SCALAR#2")
    )
    one, two = first[next(iter(first))], second[next(iter(second))]

    # Then the scalars are one object each; the sets (changed in place by ADD) are not
    assert one.attrs["status"] is two.attrs["status"]
    assert one.attrs["n"] is two.attrs["n"]
    assert one.attrs["flag"] is two.attrs["flag"]
    assert one.attrs["tags"] is not two.attrs["tags"]

    # When one item is updated (SET, ADD to the number and to the set)
    client.update_item(
        TableName=table,
        Key={"pk": {"S": "SCALAR#1"}, "sk": {"S": "X"}},
        UpdateExpression="SET #s = :s ADD n :one, tags :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "solved"}, ":one": {"N": "1"}, ":c": {"SS": ["c"]}},
    )

    # Then the other keeps its values
    other = client.get_item(TableName=table, Key={"pk": {"S": "SCALAR#2"}, "sk": {"S": "X"}})
    assert other["Item"]["status"] == {"S": "open"}
    assert other["Item"]["n"] == {"N": "1"}
    assert sorted(other["Item"]["tags"]["SS"]) == ["a", "b"]
    changed = client.get_item(TableName=table, Key={"pk": {"S": "SCALAR#1"}, "sk": {"S": "X"}})
    assert changed["Item"]["status"] == {"S": "solved"}
    assert changed["Item"]["n"] == {"N": "2"}
    assert sorted(changed["Item"]["tags"]["SS"]) == ["a", "b", "c"]

    # And the value the update wrote is shared too: a later item with it holds that object
    client.put_item(
        TableName=table,
        Item={"pk": {"S": "SCALAR#3"}, "sk": {"S": "X"}, "status": {"S": "solved"}},
    )
    third = next(items for key, items in stored.items.items() if key.value == "SCALAR#3")
    updated = first[next(iter(first))]
    assert third[next(iter(third))].attrs["status"] is updated.attrs["status"]


def test_a_key_only_partition_keeps_each_items_own_form_of_its_keys(table: str) -> None:
    # Given a table with number keys, and key-only items whose partition keys are equal
    # numbers written differently
    import pickle

    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item

    client = boto3.client("dynamodb")
    name = f"{table}-numbers"
    create_keyed_table(client, name, "N")
    try:
        client.put_item(TableName=name, Item={"pk": {"N": "1"}, "sk": {"N": "5"}})
        client.put_item(TableName=name, Item={"pk": {"N": "1.0"}, "sk": {"N": "7"}})

        # Then each reads back as it was written (as in plain moto and DynamoDB)
        key = {"pk": {"N": "1.0"}, "sk": {"N": "7"}}
        assert client.get_item(TableName=name, Key=key)["Item"] == key
        first = {"pk": {"N": "1"}, "sk": {"N": "5"}}
        assert client.get_item(TableName=name, Key=first)["Item"] == first

        # And a pickle of the partition (as a copy of the table makes) holds plain items
        stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(name)
        (partition,) = stored.items.values()
        copied = pickle.loads(pickle.dumps(partition))
        assert type(copied) is dict
        assert all(type(item) is Item for item in copied.values())
        assert sorted(item.attrs["pk"].value for item in copied.values()) == ["1", "1.0"]
        # And so do the dict copies CPython makes without calling a method of ours
        for plain in (dict(partition), {**partition}, dict.copy(partition.copy())):
            assert sorted(item.attrs["pk"].value for item in plain.values()) == ["1", "1.0"]
    finally:
        client.delete_table(TableName=name)


def test_a_page_remembers_the_size_of_stored_items_only(table: str) -> None:
    # Given 30 tickets, listed in one page (each ticket item is measured for the 1 MB
    # limit, and its size remembered)
    from dataclasses import replace

    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from local_stack.moto_patch.indexes import _state
    from local_stack.moto_patch.memory import attrs_size

    repository = DynamoTicketRepository(counter_shards=8)
    tickets = [_ticket(n) for n in range(30)]
    for ticket in tickets:
        repository.create(ticket, "customer")
    assert len(repository.list_page(ListSpec(), 30, None).tickets) == 30
    stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
    state = _state(stored, create=False)
    assert state is not None

    def remembered() -> list[tuple[Any, int]]:
        return list(state.sizes.values())

    assert len(remembered()) >= 30

    # When ten are deleted and ten others changed
    for ticket in tickets[:10]:
        repository.delete(ticket, "agent", ticket.created_at)
    for ticket in tickets[10:20]:
        repository.update(ticket, replace(ticket, title="Changed", version=2), "agent")

    # Then only the ten tickets untouched since the page are remembered: what was
    # deleted is not kept alive, and what was written is measured afresh
    assert len(remembered()) == 10
    for item, size in remembered():
        assert stored.items[item.hash_key][item.range_key] is item
        assert size == attrs_size(item.attrs)
    # And the next page measures the changed ones again, at their new size
    assert len(repository.list_page(ListSpec(), 30, None).tickets) == 20
    assert len(remembered()) == 20
    assert all(size == attrs_size(item.attrs) for item, size in remembered())


def test_items_with_lists_or_maps_are_kept_packed_and_read_back_whole(table: str) -> None:
    # Given a ticket with a history (each entry's changes: a list of maps)
    from dataclasses import replace

    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from local_stack.moto_patch.memory import PackedItem

    repository = DynamoTicketRepository(counter_shards=8)
    ticket = _ticket(1)
    repository.create(ticket, "customer")
    repository.update(ticket, replace(ticket, title="Changed", version=2), "agent")
    stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
    partition = next(v for k, v in stored.items.items() if k.value == f"TICKET#{ticket.id}")

    # Then each history entry is one packed string, no attribute dict; the ticket is not
    kinds = {key.value: type(item) for key, item in partition.items()}
    history = [sk for sk in kinds if sk.startswith("HISTORY#")]
    assert len(history) == 2
    assert all(kinds[sk] is PackedItem for sk in history)
    assert not any(issubclass(kinds[sk], PackedItem) for sk in kinds if sk not in history)
    assert all("attrs" not in partition[k].__dict__ for k in partition if k.value in history)
    # And its key attributes are the item's own key objects, read back
    entry = next(partition[k] for k in partition if k.value == history[0])
    assert entry.attrs["pk"] is entry.hash_key and entry.attrs["sk"] is entry.range_key
    # And the history reads back whole through the repository
    entries = repository.history(ticket.id)
    assert [e.action for e in entries] == ["created", "updated"]
    assert [(c.field, c.old, c.new) for c in entries[1].changes] == [
        ("title", ticket.title, "Changed")
    ]

    # When an entry's list is changed in place (UpdateItem) and read back
    client = boto3.client("dynamodb")
    key = {"pk": {"S": f"TICKET#{ticket.id}"}, "sk": {"S": history[1]}}
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET changes = list_append(changes, :more)",
        ExpressionAttributeValues={":more": {"L": [{"M": {"field": {"S": "status"}}}]}},
    )
    item = client.get_item(TableName=table, Key=key)["Item"]

    # Then the change is kept, and the item is packed again
    assert [c["M"]["field"]["S"] for c in item["changes"]["L"]] == ["title", "status"]
    assert type(next(partition[k] for k in partition if k.value == history[1])) is PackedItem

    # When the partition also holds an item of keys alone, and the table is backed up
    partition_key = {"S": f"TICKET#{ticket.id}"}
    client.put_item(TableName=table, Item={"pk": partition_key, "sk": {"S": "ZZ"}})
    partition = next(v for k, v in stored.items.items() if k.value == f"TICKET#{ticket.id}")
    client.create_backup(TableName=table, BackupName="packed")

    # Then the live entries are still packed (the backup's copy is its own)
    assert all(
        type(partition[k]) is PackedItem for k in partition if k.value.startswith("HISTORY#")
    )


def test_an_update_through_plain_moto_changes_a_packed_item(
    table: str, plain_moto_server: Any
) -> None:
    # Given an item holding a list, stored packed by the patched server
    import boto3

    key = {"pk": {"S": "PLAIN#1"}, "sk": {"S": "x"}}
    patched = boto3.client("dynamodb")
    patched.put_item(TableName=table, Item={**key, "parts": {"L": [{"S": "a"}]}})

    # When plain moto (sharing the same state) updates it in place
    plain = boto3.client("dynamodb", endpoint_url=plain_moto_server.url)
    plain.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET note = :n, parts = list_append(parts, :p)",
        ExpressionAttributeValues={":n": {"S": "kept"}, ":p": {"L": [{"S": "b"}]}},
    )

    # Then both servers read the change
    for client in (patched, plain):
        item = client.get_item(TableName=table, Key=key)["Item"]
        assert item["note"] == {"S": "kept"}
        assert item["parts"] == {"L": [{"S": "a"}, {"S": "b"}]}


def test_a_partition_emptied_or_only_looked_up_is_not_kept(table: str) -> None:
    # Given an item in a partition of its own
    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    client = boto3.client("dynamodb")
    stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
    key = {"pk": {"S": "LOOKUP#1"}, "sk": {"S": "x"}}
    client.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    partitions = len(stored.items)

    # When it is deleted, and keys that were never stored are read and deleted
    client.delete_item(TableName=table, Key=key)
    for n in range(2, 4):
        missing = {"pk": {"S": f"LOOKUP#{n}"}, "sk": {"S": "x"}}
        assert "Item" not in client.get_item(TableName=table, Key=missing)
    for n in range(4, 6):
        client.delete_item(TableName=table, Key={"pk": {"S": f"LOOKUP#{n}"}, "sk": {"S": "x"}})

    # Then no partition is left behind for any of them (moto kept an empty dict for each)
    assert len(stored.items) == partitions - 1
    assert not any(k.value.startswith("LOOKUP#") for k in stored.items)
