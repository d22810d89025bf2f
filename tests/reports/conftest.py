"""Report test fixtures, shared with the ledger tests: loopback PostgreSQL, a URL per backend."""

from tests.ledger.postgres_server import ledger_url, postgres_server, postgres_url

__all__ = ["ledger_url", "postgres_server", "postgres_url"]
