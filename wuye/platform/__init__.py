"""Platform core: app factory, settings, database, domain, web pages, CLI."""
