"""Fixtures for the report tests (shared with the ledger tests): a loopback PostgreSQL server and a ledger URL per backend."""

from tests.ledger.postgres_server import ledger_url, postgres_server, postgres_url

__all__ = ["ledger_url", "postgres_server", "postgres_url"]
