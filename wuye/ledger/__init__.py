"""Permissioned EVM ledger: contracts, node, consensus, JSON-RPC, proofs, verification."""
