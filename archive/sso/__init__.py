"""Single sign-on: people log in through their organisation's OpenID Connect provider.

The provider says who someone is (its issuer and their subject) and which groups they are in;
the archive's mapping from groups to roles, changed only with a second administrator's
approval, says what those groups may do here.
"""
