"""JSON-RPC 2.0 over HTTP: the Ethereum methods web3.py needs, and the `wuye_` namespace."""
