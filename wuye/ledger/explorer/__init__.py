"""The regulators' audit explorer (区块链浏览器): blocks, transactions and decoded events of
any ledger node read over JSON-RPC, search, per-estate charts, CSV export, and the chain
integrity check of ``wuye ledger verify`` run at a click."""
