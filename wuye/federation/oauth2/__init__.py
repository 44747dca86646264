"""wuye's OAuth 2 authorization server, built on Authlib's grants and endpoints.

Modules are named after the standard they implement: ``rfc6749`` (the grants),
``rfc7636`` (PKCE, S256 only), ``rfc7009`` (revocation), ``rfc7591`` (dynamic client
registration), ``rfc7662`` (introspection), ``rfc8414`` (server metadata);
``server`` binds Authlib to Starlette and the database, ``views`` routes HTTP to it.
"""
