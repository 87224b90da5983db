"""Persistence functions: keyword-only, named by verb, one session passed in.

One module per table family, imported from where it is defined:
`from service.store.comments import create_comment`. This package is the only place that writes
SQL.
"""
