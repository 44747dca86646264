"""Tenancy: onboarding of member firms, the OAuth 2 authorization server, scopes and roles."""
