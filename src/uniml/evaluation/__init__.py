"""Evaluation: metrics per task, baselines, and (later) the harness and gates.

Nothing here is imported by ``import uniml``; import the submodules you need.

Examples
--------
>>> from uniml.evaluation.metrics import ranking
>>> ranking.__name__
'uniml.evaluation.metrics.ranking'
"""
