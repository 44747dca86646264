"""Platform core: app factory, settings, database, domain (estates, owners, staff), web pages, CLI."""
