"""Developer sandbox: developer accounts and their apps, one sandbox tenant per app filled
with a synthetic estate, mock external platforms, per-app rate limits, a request log, and
the developer portal (开发者门户)."""
