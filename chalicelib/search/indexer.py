"""Keeps the search index exact: recompute a ticket's terms from its current state.

The stream consumer calls :meth:`SearchIndexer.reindex` for every change to a ticket
or its messages, and ``make reindex`` calls it for every ticket. It always reads the
ticket and its messages as they are now, compares the terms with the ticket's
manifest (the terms indexed last time) and writes only the difference: postings of
new terms are put, postings of vanished terms deleted, then the manifest saved. So
a record delivered twice, out of date, or after a crash half-way leaves the index
exact: the next run finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.data.items import created_sort_key, posting_pk, ticket_pk
from chalicelib.data.models import INDEX_SK, IndexManifestModel, PostingModel
from chalicelib.data.repository import TicketRepository, storage_error
from chalicelib.domain import Ticket
from chalicelib.errors import TicketNotFound
from chalicelib.search.text import email_term, short_ref_term, ticket_terms

_MESSAGES_PAGE = 100


@dataclass(frozen=True, slots=True)
class IndexResult:
    """What one re-index wrote."""

    ticket_id: str
    terms: int
    written: int
    deleted: int
    skipped: bool = False
    truncated: bool = False


class SearchIndexer:
    """Maintains postings (``IX#<term>``) and manifests (``TICKET#<id> / INDEX``)."""

    def __init__(self, repository: TicketRepository) -> None:
        self._repository = repository

    def reindex(self, ticket_id: str, force: bool = False) -> IndexResult:
        """Make the index hold exactly the ticket's current terms (or nothing, if it is gone)."""
        try:
            ticket = self._repository.get(ticket_id)
        except TicketNotFound:
            return self.remove(ticket_id)
        manifest = self._manifest(ticket_id)
        if manifest is not None and not force and int(manifest.indexed_version) == ticket.version:
            return IndexResult(ticket_id, len(manifest.terms or ()), 0, 0, skipped=True)
        texts = [*_customer_texts(ticket), ticket.title, ticket.description]
        if ticket.message_count:  # kept in the transaction that adds a message
            texts += self._message_bodies(ticket_id)
        computed = ticket_terms(_special_terms(ticket), texts)
        old = set(manifest.terms or ()) if manifest is not None else set()
        created_sk = created_sort_key(ticket.created_at, ticket.id)
        added = sorted(computed.terms - old)
        removed = sorted(old - computed.terms)
        try:
            with PostingModel.batch_write() as batch:
                for term in added:
                    batch.save(PostingModel(posting_pk(term), created_sk))
                for term in removed:
                    batch.delete(PostingModel(posting_pk(term), created_sk))
            IndexManifestModel(
                ticket_pk(ticket_id),
                INDEX_SK,
                created_sk=created_sk,
                terms=set(computed.terms) or None,
                indexed_version=ticket.version,
                truncated=computed.truncated,
            ).save()
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return IndexResult(
            ticket_id,
            len(computed.terms),
            len(added),
            len(removed),
            truncated=computed.truncated,
        )

    def reindex_page(self, tickets: list[Ticket], force: bool = False) -> list[IndexResult]:
        """Re-index many tickets at once (``make reindex``): one ``BatchGetItem`` for their
        manifests, batched writes for all their postings. Same result as :meth:`reindex`."""
        try:
            manifests = {
                item.pk: item
                for item in IndexManifestModel.batch_get(
                    [(ticket_pk(ticket.id), INDEX_SK) for ticket in tickets]
                )
            }
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        results: list[IndexResult] = []
        writes: list[tuple[str, str, bool]] = []  # (term, created_sk, put?)
        new_manifests: list[IndexManifestModel] = []
        for ticket in tickets:
            manifest = manifests.get(ticket_pk(ticket.id))
            if (
                manifest is not None
                and not force
                and int(manifest.indexed_version) == ticket.version
            ):
                results.append(
                    IndexResult(ticket.id, len(manifest.terms or ()), 0, 0, skipped=True)
                )
                continue
            bodies = self._message_bodies(ticket.id) if ticket.message_count else []
            computed = ticket_terms(
                _special_terms(ticket),
                [*_customer_texts(ticket), ticket.title, ticket.description, *bodies],
            )
            old = set(manifest.terms or ()) if manifest is not None else set()
            created_sk = created_sort_key(ticket.created_at, ticket.id)
            added = computed.terms - old
            removed = old - computed.terms
            writes.extend((term, created_sk, True) for term in sorted(added))
            writes.extend((term, created_sk, False) for term in sorted(removed))
            new_manifests.append(
                IndexManifestModel(
                    ticket_pk(ticket.id),
                    INDEX_SK,
                    created_sk=created_sk,
                    terms=set(computed.terms) or None,
                    indexed_version=ticket.version,
                    truncated=computed.truncated,
                )
            )
            results.append(
                IndexResult(
                    ticket.id,
                    len(computed.terms),
                    len(added),
                    len(removed),
                    truncated=computed.truncated,
                )
            )
        try:
            with PostingModel.batch_write() as batch:
                for term, created_sk, put in writes:
                    posting = PostingModel(posting_pk(term), created_sk)
                    if put:
                        batch.save(posting)
                    else:
                        batch.delete(posting)
            with IndexManifestModel.batch_write() as batch:
                for manifest in new_manifests:
                    batch.save(manifest)
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return results

    def remove(self, ticket_id: str) -> IndexResult:
        """Delete every posting of a ticket that no longer exists, then its manifest."""
        manifest = self._manifest(ticket_id)
        if manifest is None:
            return IndexResult(ticket_id, 0, 0, 0, skipped=True)
        terms = sorted(manifest.terms or ())
        try:
            with PostingModel.batch_write() as batch:
                for term in terms:
                    batch.delete(PostingModel(posting_pk(term), manifest.created_sk))
            manifest.delete()
        except PynamoDBException as exc:
            raise storage_error(exc) from exc
        return IndexResult(ticket_id, 0, 0, len(terms))

    @staticmethod
    def _manifest(ticket_id: str) -> IndexManifestModel | None:
        try:
            return IndexManifestModel.get(ticket_pk(ticket_id), INDEX_SK, consistent_read=True)
        except DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise storage_error(exc) from exc

    def _message_bodies(self, ticket_id: str) -> list[str]:
        bodies: list[str] = []
        after: str | None = None
        while True:
            messages, after = self._repository.messages(ticket_id, _MESSAGES_PAGE, after)
            bodies.extend(message.body for message in messages)
            if after is None:
                return bodies


def _customer_texts(ticket: Ticket) -> list[str]:
    """The requester's name and address as text: agents find "Kenji Sato" by "sato" and
    ``priya.n@customer3.example`` by ``priya`` or ``customer3`` (first, so never cut)."""
    return [ticket.customer_name or "", ticket.customer_email or ""]


def _special_terms(ticket: Ticket) -> list[str]:
    terms = [short_ref_term(ticket.id)]
    if ticket.customer_email:
        terms.append(email_term(ticket.customer_email))
    return terms
