"""The ledger app: append-only tables of transactions and their entries, written only through
``actions.post_transaction`` / ``actions.reverse_transaction`` after the pure engine
(``opencall.engines.ledger``) has validated them, read through ``queries``, and checked end to end by
``verify.verify_ledger`` (``opencall ledger verify``).

Append-only is enforced three times: the models refuse ``save()`` of a stored row and ``delete()``
(and their querysets refuse ``update()``/``delete()``); database triggers refuse UPDATE and DELETE of
either table on SQLite and PostgreSQL (migration 0002). A correction is a reversal: a new transaction.
"""
