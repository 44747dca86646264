"""Developer sandbox: sandbox tenants and keys, synthetic estates, simulators, mock platforms."""
