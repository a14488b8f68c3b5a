"""The budgeting rules; :mod:`opencall.engines.budgeting.registry` names them."""
