"""How ticket lists are read: the one place that picks indexes, merges partitions,
orders pages, continues cursors and runs searches.

**Lists.** A list is the tickets matching some values of the four dimensions
(category, priority, status, assignee), in one of three orders. The catalogue of
list indexes (``LIST_INDEX_SPECS`` in chalicelib.data.models) says which dimensions
each index's partition key holds. :func:`plan_list` picks the index that needs the
fewest partitions for the query: a dimension the index holds but the query leaves
open is covered by reading every value's partition, and a dimension holding
several wanted values (``status=unsolved`` is ``open`` and ``in_progress``) reads
one partition per value. The partitions are read lazily, in growing chunks, and
merged by ``created_sk``; so the first page reads about ``limit`` items plus a few
per partition, whatever the table holds. The priority order reads the partitions
of one priority at a time (critical first), oldest first within a priority.

**Search.** Every query term has a sorted posting list (``IX#<term>``, sorted by the
tickets' ``created_sk``). The first chunk of each term's list (and of the filters'
merged list, when there are filters) is read; the list that is exhausted soonest,
or else the sparsest, *drives*: its tickets are candidates, in page order, and each
candidate is checked against the other terms by exact key (``BatchGetItem``; a
candidate inside another list's first chunk is checked without a read) and then
against the filters on the ticket item itself. So the items a search reads grow
with the matches of its rarest term, up to a full page, plus the page; never with
the table. A request stops after ``candidate_budget`` candidates and continues from
the cursor (pages are otherwise always full: short only when they are the last).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.cursor import PagePosition
from chalicelib.data.items import (
    LISTED_TICKET_ATTRIBUTES,
    SUMMARY_ATTRIBUTES,
    UNASSIGNED,
    created_sort_key,
    dimension_values,
    number_pk,
    partition_value,
    posting_pk,
    summary_from_item,
    ticket_from_item,
    ticket_id_of_sort_key,
    ticket_pk,
    to_ticket,
)
from chalicelib.data.models import (
    LIST_DIMENSIONS,
    LIST_INDEX_SPECS,
    TICKET_SK,
    NumberModel,
    PostingModel,
    TicketModel,
)
from chalicelib.domain import PRIORITY_ORDER, Category, SortOrder, Status, Ticket, TicketSummary
from chalicelib.search.text import Reference, SearchQuery, short_ref_term

_ALL_VALUES: dict[str, tuple[str, ...]] = {
    "category": tuple(c.value for c in Category),
    "priority": tuple(p.value for p in PRIORITY_ORDER),
    "status": tuple(s.value for s in Status),
}
_PRIORITY_RANK = {priority.value: rank for rank, priority in enumerate(PRIORITY_ORDER)}
_MIN_CHUNK = 5
_MAX_CHUNK = 100
_VERIFY_BATCH = 40

Filters = Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class ListSpec:
    """What a list shows: wanted values per dimension, the order, and maybe a search."""

    filters: Filters = field(default_factory=dict)
    sort: SortOrder = SortOrder.NEWEST
    search: SearchQuery | None = None


@dataclass(slots=True)
class TicketPage:
    """One page of a list query."""

    tickets: list[Ticket]
    next_position: PagePosition | None
    examined: int = 0


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition of a list index, and the priority its tickets have (if fixed)."""

    value: str
    priority: str | None


@dataclass(frozen=True, slots=True)
class ListPlan:
    """The index a list reads and the partitions it merges."""

    index_name: str
    partitions: tuple[Partition, ...]


def plan_list(filters: Filters, sort: SortOrder) -> ListPlan:
    """The cheapest index for ``filters`` in ``sort`` order (fewest partitions to merge)."""
    wanted = set(filters)
    best: tuple[tuple[int, int], str, list[tuple[str, ...]], tuple[str, ...]] | None = None
    choices: list[tuple[str, ...]]
    for name, (_, dimensions) in LIST_INDEX_SPECS.items():
        if not wanted <= set(dimensions):
            continue  # a filter the index cannot select
        if "assignee" in dimensions and "assignee" not in wanted:
            continue  # every agent's partition: unbounded
        if (
            sort is SortOrder.PRIORITY
            and "priority" not in dimensions
            and len(filters.get("priority", ())) != 1
        ):
            continue  # the priority order needs partitions of one priority each
        ordered = tuple(d for d in LIST_DIMENSIONS if d in dimensions)
        choices = [tuple(sorted(filters[d])) if d in filters else _ALL_VALUES[d] for d in ordered]
        cost = (math.prod(len(values) for values in choices), len(ordered))
        if best is None or cost < best[0]:
            best = (cost, name, choices, ordered)
    assert best is not None, "the catalogue covers every combination"
    _, name, choices, ordered = best
    partitions = []
    for combination in itertools.product(*choices):
        values = dict(zip(ordered, combination, strict=True))
        priority = values.get("priority")
        if priority is None and len(filters.get("priority", ())) == 1:
            priority = next(iter(filters["priority"]))
        partitions.append(Partition(partition_value(values, ordered), priority))
    return ListPlan(name, tuple(partitions))


def position_of(ticket: Ticket, sort: SortOrder) -> PagePosition:
    """Where a page that ends with ``ticket`` continues."""
    return PagePosition(
        created_sort_key(ticket.created_at, ticket.id),
        ticket.priority.value if sort is SortOrder.PRIORITY else None,
    )


def passes(ticket: Ticket, filters: Filters) -> bool:
    """Whether ``ticket`` has one of the wanted values in every filtered dimension."""
    values = dimension_values(ticket)
    return all(values[name] in wanted for name, wanted in filters.items())


@dataclass(slots=True)
class _Reads:
    """Items read from DynamoDB by one list request."""

    items: int = 0


# A raw item, as a Query returns it: attribute name -> {type: value}.
RawItem = dict[str, dict[str, Any]]
# Reads up to a chunk of items after a LastEvaluatedKey (None: from the start);
# returns them and the key to go on from (None: the partition has ended).
ChunkReader = Callable[[int, Any], tuple[list[Any], Any]]


def _chunked_query(read: ChunkReader, first_chunk: int, reads: _Reads) -> Iterator[Any]:
    """The items of one partition in key order, read in growing chunks (``_chunk_sizes``)
    until the partition ends or the caller stops, counted in ``reads``.

    Each chunk is read whole, so the next starts from DynamoDB's own LastEvaluatedKey
    (PynamoDB rebuilds one from the last item's attributes only for a part-read page).
    """
    last_key = None
    for chunk in _chunk_sizes(first_chunk):
        items, last_key = read(chunk, last_key)
        reads.items += len(items)
        yield from items
        if last_key is None or len(items) < chunk:
            return


def _model_reader(query: Any, hash_key: str, condition: Any, descending: bool) -> ChunkReader:
    """Chunks of a model's ``query``, as models."""

    def read(chunk: int, last_key: Any) -> tuple[list[Any], Any]:
        result = query(
            hash_key,
            range_key_condition=condition,
            scan_index_forward=not descending,
            limit=chunk,
            page_size=chunk,
            last_evaluated_key=last_key,
        )
        return list(result), result.last_evaluated_key

    return read


def _raw_ticket_reader(
    index: Any, hash_key: str, condition: Any, descending: bool, attributes: list[str]
) -> ChunkReader:
    """Chunks of a list index's partition as raw items (``attributes`` of each), read
    through TicketModel's connection; :func:`ticket_from_item` makes them tickets without
    building a model for each. A chunk cut short by DynamoDB's 1 MB page is completed
    by further reads, as PynamoDB's ``ResultIterator`` completes a ``limit``."""
    connection = TicketModel._get_connection()
    index_name = index.Meta.index_name

    def read(chunk: int, last_key: Any) -> tuple[list[Any], Any]:
        items: list[RawItem] = []
        while True:
            response = connection.query(
                hash_key,
                range_key_condition=condition,
                index_name=index_name,
                scan_index_forward=not descending,
                limit=chunk - len(items),
                exclusive_start_key=last_key,
                attributes_to_get=attributes,
            )
            items.extend(response.get("Items", ()))
            last_key = response.get("LastEvaluatedKey")
            if last_key is None or len(items) >= chunk:
                return items, last_key

    return read


def _chunk_sizes(first: int) -> Iterator[int]:
    size = max(first, 1)
    while True:
        yield size
        size = min(size * 2, _MAX_CHUNK)


class _Buffered:
    """A sorted stream of ``(sort key, payload)`` whose first items can be read ahead."""

    def __init__(self, source: Iterator[tuple[str, Any]], name: str) -> None:
        self.name = name
        self._source = source
        self.buffer: list[tuple[str, Any]] = []
        self.exhausted = False
        self._keys: set[str] = set()

    def probe(self, count: int) -> None:
        """Read ahead until ``count`` items are buffered or the stream ends."""
        while len(self.buffer) < count and not self.exhausted:
            try:
                item = next(self._source)
            except StopIteration:
                self.exhausted = True
                return
            self.buffer.append(item)
            self._keys.add(item[0])

    def covers(self, key: str, descending: bool) -> bool:
        """Whether membership of ``key`` is known from the buffer alone."""
        if self.exhausted:
            return True
        if not self.buffer:
            return False
        last = self.buffer[-1][0]
        return key >= last if descending else key <= last

    def holds(self, key: str) -> bool:
        """Whether ``key`` is in the buffer."""
        return key in self._keys

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        yield from self.buffer
        yield from self._source


class ListReader:
    """Reads pages of tickets for a :class:`ListSpec` (raises PynamoDB errors as they come;
    the repository maps them to domain errors)."""

    def __init__(self, candidate_budget: int = 2000) -> None:
        self._candidate_budget = candidate_budget

    # ---- plain lists ----------------------------------------------------------------

    def page(self, spec: ListSpec, limit: int, after: PagePosition | None) -> TicketPage:
        """One page of ``spec``: ``limit`` tickets and where the next page starts."""
        reads = _Reads()
        if spec.search is not None:
            return self._search_page(spec, spec.search, limit, after, reads)
        stream = self._filter_stream(spec, limit + 1, after, reads)
        items = [ticket_from_item(item) for _, item in itertools.islice(stream, limit + 1)]
        has_more = len(items) > limit
        tickets = items[:limit]
        return TicketPage(
            tickets,
            position_of(tickets[-1], spec.sort) if has_more else None,
            reads.items,
        )

    def first_summary(self, spec: ListSpec) -> TicketSummary | None:
        """The first ticket of a list (not a search), as a summary: one item from each
        partition the list reads, and of each only :data:`SUMMARY_ATTRIBUTES` (a list
        page reads some twenty attributes, the description among them)."""
        if spec.search is not None:
            raise ValueError("a summary is read from a list, not a search")
        stream = self._filter_stream(spec, 1, None, _Reads(), SUMMARY_ATTRIBUTES)
        first = next(stream, None)
        return None if first is None else summary_from_item(first[1])

    def _filter_stream(
        self,
        spec: ListSpec,
        wanted: int,
        after: PagePosition | None,
        reads: _Reads,
        attributes: tuple[str, ...] = LISTED_TICKET_ATTRIBUTES,
    ) -> Iterator[tuple[str, RawItem]]:
        """The tickets matching the filters (raw items of ``attributes``), in the list's
        order, read lazily."""
        plan = plan_list(spec.filters, spec.sort)
        index = getattr(TicketModel, plan.index_name)
        if spec.sort is not SortOrder.PRIORITY:
            descending = spec.sort is SortOrder.NEWEST
            first = _first_chunk(wanted, len(plan.partitions))
            streams = [
                self._index_partition(
                    index, p.value, descending, _bound(after), first, reads, attributes
                )
                for p in plan.partitions
            ]
            return _merge(streams, descending)
        return self._priority_stream(index, plan.partitions, wanted, after, reads, attributes)

    def _priority_stream(
        self,
        index: Any,
        partitions: tuple[Partition, ...],
        wanted: int,
        after: PagePosition | None,
        reads: _Reads,
        attributes: tuple[str, ...],
    ) -> Iterator[tuple[str, RawItem]]:
        start_rank = _PRIORITY_RANK.get(after.priority or "", 0) if after else 0
        for priority in PRIORITY_ORDER[start_rank:]:
            segment = [p for p in partitions if p.priority == priority.value]
            if not segment:
                continue
            bound = after.created_sk if after and after.priority == priority.value else None
            first = _first_chunk(wanted, len(segment))
            streams = [
                self._index_partition(index, p.value, False, bound, first, reads, attributes)
                for p in segment
            ]
            yield from _merge(streams, descending=False)

    @staticmethod
    def _index_partition(
        index: Any,
        value: str,
        descending: bool,
        bound: str | None,
        first_chunk: int,
        reads: _Reads,
        attributes: tuple[str, ...],
    ) -> Iterator[tuple[str, RawItem]]:
        condition = None
        if bound is not None:
            condition = (
                TicketModel.created_sk < bound if descending else TicketModel.created_sk > bound
            )
        # (DynamoDB's own LastEvaluatedKey continues a chunk: the index's partition key
        # is not asked for, as PynamoDB needed it to rebuild one; a list, as PynamoDB
        # reads a tuple as one document path)
        read = _raw_ticket_reader(index, value, condition, descending, list(attributes))
        for item in _chunked_query(read, first_chunk, reads):
            yield item["created_sk"]["S"], item

    @staticmethod
    def _postings(
        term: str, descending: bool, bound: str | None, first_chunk: int, reads: _Reads
    ) -> Iterator[tuple[str, None]]:
        condition = None
        if bound is not None:
            condition = PostingModel.sk < bound if descending else PostingModel.sk > bound
        read = _model_reader(PostingModel.query, posting_pk(term), condition, descending)
        for item in _chunked_query(read, first_chunk, reads):
            yield item.sk, None

    # ---- search ---------------------------------------------------------------------

    def _search_page(
        self,
        spec: ListSpec,
        query: SearchQuery,
        limit: int,
        after: PagePosition | None,
        reads: _Reads,
    ) -> TicketPage:
        pinned: list[Ticket] = []
        exclude: set[str] = set()
        if query.reference is not None:
            referenced = [
                ticket
                for ticket in self._fetch(self._resolve(query.reference, reads), reads)
                if passes(ticket, spec.filters)
            ]
            _sort_tickets(referenced, spec.sort)
            exclude = {ticket.id for ticket in referenced}
            if after is None:
                pinned = referenced
            if query.reference_only:
                return TicketPage(pinned[:limit], None, reads.items)
        room = max(limit - len(pinned), 1)
        found, next_position = self._match(spec, query.terms, room, after, exclude, reads)
        return TicketPage(pinned + found, next_position, reads.items)

    def _match(
        self,
        spec: ListSpec,
        terms: tuple[str, ...],
        room: int,
        after: PagePosition | None,
        exclude: set[str],
        reads: _Reads,
    ) -> tuple[list[Ticket], PagePosition | None]:
        """Up to ``room`` tickets matching every term and the filters, and where to go on."""
        wanted = room + 1  # one more tells whether a next page exists
        probe = min(max(wanted, 10), _MAX_CHUNK + 1)
        descending = spec.sort is not SortOrder.OLDEST
        posting_streams = [
            _Buffered(self._postings(t, descending, _bound(after), probe, reads), t) for t in terms
        ]
        if spec.sort is SortOrder.PRIORITY:
            # Postings are in creation order: the filters' priority-ordered list drives.
            driver = _Buffered(self._filter_stream(spec, wanted, after, reads), "filters")
            others = posting_streams
        else:
            streams = list(posting_streams)
            if spec.filters:
                streams.append(_Buffered(self._filter_stream(spec, probe, after, reads), "filters"))
            for stream in streams:
                stream.probe(probe)
            driver = _choose_driver(streams, descending)
            others = [s for s in posting_streams if s is not driver]
        results: list[Ticket] = []
        examined = 0
        for batch in _batches(iter(driver), _VERIFY_BATCH):
            examined += len(batch)
            candidates = self._verify_terms(batch, others, descending, reads)
            for ticket in self._tickets_for(candidates, driver.name == "filters", reads):
                if ticket.id in exclude or not passes(ticket, spec.filters):
                    continue
                results.append(ticket)
                if len(results) == wanted:
                    return results[:room], position_of(results[room - 1], spec.sort)
            if examined >= self._candidate_budget:
                # Budget spent: this page ends here, and the next one continues right
                # after the last candidate examined (nothing is skipped).
                return results, _position_after(batch[-1], spec.sort)
        return results, None

    def _verify_terms(
        self,
        batch: list[tuple[str, Any]],
        others: list[_Buffered],
        descending: bool,
        reads: _Reads,
    ) -> list[tuple[str, Any]]:
        """The candidates of ``batch`` that every other term's postings also hold."""
        unknown: list[tuple[str, str]] = []
        survivors = []
        for key, payload in batch:
            known_missing = False
            for stream in others:
                if stream.covers(key, descending):
                    if not stream.holds(key):
                        known_missing = True
                        break
                else:
                    unknown.append((posting_pk(stream.name), key))
            if not known_missing:
                survivors.append((key, payload))
        if not unknown:
            return survivors
        wanted_keys = {(pk, sk) for pk, sk in unknown}
        found: set[tuple[str, str]] = set()
        for item in PostingModel.batch_get(sorted(wanted_keys)):
            reads.items += 1
            found.add((item.pk, item.sk))
        return [
            (key, payload)
            for key, payload in survivors
            if all(
                stream.covers(key, descending) or (posting_pk(stream.name), key) in found
                for stream in others
            )
        ]

    def _tickets_for(
        self, candidates: list[tuple[str, Any]], have_items: bool, reads: _Reads
    ) -> list[Ticket]:
        """The tickets of the candidates, in candidate order (deleted ones dropped)."""
        if have_items:
            return [ticket_from_item(item) for _, item in candidates]
        ids = [ticket_id_of_sort_key(key) for key, _ in candidates]
        by_id = {ticket.id: ticket for ticket in self._fetch(ids, reads)}
        return [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]

    @staticmethod
    def _fetch(ids: Iterable[str], reads: _Reads) -> list[Ticket]:
        keys = sorted({(ticket_pk(ticket_id), TICKET_SK) for ticket_id in ids})
        if not keys:
            return []
        tickets = []
        for model in TicketModel.batch_get(keys, attributes_to_get=list(LISTED_TICKET_ATTRIBUTES)):
            reads.items += 1
            tickets.append(to_ticket(model))
        return tickets

    def _resolve(self, reference: Reference, reads: _Reads) -> list[str]:
        """The ids of the tickets a reference names (usually one, possibly none)."""
        if reference.kind == "id":
            return [reference.value]
        if reference.kind == "number":
            try:
                item = NumberModel.get(number_pk(int(reference.value)), "NUMBER")
            except NumberModel.DoesNotExist:
                return []
            reads.items += 1
            return [item.ticket_id]
        postings = list(PostingModel.query(posting_pk(short_ref_term(reference.value)), limit=10))
        reads.items += len(postings)
        return [ticket_id_of_sort_key(item.sk) for item in postings]


def _bound(after: PagePosition | None) -> str | None:
    return after.created_sk if after else None


def _first_chunk(wanted: int, partitions: int) -> int:
    """How many items to read first from each of ``partitions`` merged for ``wanted``:
    a share and one more, at least a few (a partition's share is rarely even), and
    never more than ``wanted`` (no partition can give a page more)."""
    if partitions <= 1:
        return wanted
    return min(max(math.ceil(wanted / partitions) + 1, _MIN_CHUNK), wanted)


def _merge(streams: list[Iterator[tuple[str, Any]]], descending: bool) -> Iterator[tuple[str, Any]]:
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda pair: pair[0], reverse=descending)


def _choose_driver(streams: list[_Buffered], descending: bool) -> _Buffered:
    """The stream with the fewest matches: an exhausted one with the fewest items, else
    the one whose first chunk reaches furthest (its matches are sparsest)."""
    exhausted = [s for s in streams if s.exhausted]
    if exhausted:
        return min(exhausted, key=lambda s: len(s.buffer))
    if descending:
        return min(streams, key=lambda s: s.buffer[-1][0])
    return max(streams, key=lambda s: s.buffer[-1][0])


def _batches(items: Iterator[tuple[str, Any]], size: int) -> Iterator[list[tuple[str, Any]]]:
    sizes = itertools.chain([max(size // 4, 10)], itertools.repeat(size))
    for batch_size in sizes:
        batch = list(itertools.islice(items, batch_size))
        if not batch:
            return
        yield batch


def _sort_tickets(tickets: list[Ticket], sort: SortOrder) -> None:
    if sort is SortOrder.PRIORITY:
        tickets.sort(
            key=lambda t: (_PRIORITY_RANK[t.priority.value], created_sort_key(t.created_at, t.id))
        )
    else:
        tickets.sort(
            key=lambda t: created_sort_key(t.created_at, t.id), reverse=sort is SortOrder.NEWEST
        )


def _position_after(candidate: tuple[str, Any], sort: SortOrder) -> PagePosition:
    key, payload = candidate
    priority = None
    if sort is SortOrder.PRIORITY and payload is not None:  # a filter stream's raw item
        priority = ticket_from_item(payload).priority.value
    return PagePosition(key, priority)


def unassigned_filter() -> frozenset[str]:
    """The assignee filter value for "nobody"."""
    return frozenset({UNASSIGNED})


def filters_from(values: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Normalise a filter mapping (drop empty dimensions)."""
    return {name: frozenset(v) for name, v in values.items() if v}


__all__ = [
    "ListPlan",
    "ListReader",
    "ListSpec",
    "Partition",
    "TicketPage",
    "filters_from",
    "passes",
    "plan_list",
    "position_of",
    "unassigned_filter",
]
