"""Metrics per task kind (``ranking`` for recommendation).

Examples
--------
>>> from uniml.evaluation.metrics.ranking import precision_at_k
>>> callable(precision_at_k)
True
"""
