"""The housing maintenance fund (住宅专项维修资金) on the ledger: per-unit accounts,
deposits, interest, repair projects approved by owners' votes, common-part income,
reconciliation and monthly disclosure."""
