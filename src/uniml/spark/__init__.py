"""Scale-out on Spark: many-series fitting, batch scoring and backtests.

``fit_many`` / ``predict_many`` fit and forecast one model per series with
``groupBy().applyInPandas``; ``score`` runs any fitted tabular, causal or
recommendation adapter over a Spark DataFrame with ``mapInPandas``;
``evaluate_many`` runs the harness's rolling-origin backtest per series and
returns the same :class:`~uniml.evaluation.EvalReport`. They work on any
``SparkSession`` (``local[*]``, a cluster, Databricks). pyspark is imported
only when a function runs (``pip install 'uniml[spark]'``).

Examples
--------
>>> import uniml.spark
>>> sorted(uniml.spark.__all__)
['ManyModels', 'SparkJobError', 'evaluate_many', 'fit_many', 'predict_many', 'score']
"""

from uniml.spark._common import SparkJobError
from uniml.spark._evaluate import evaluate_many
from uniml.spark._many import ManyModels, fit_many, predict_many
from uniml.spark._score import score

__all__ = ["ManyModels", "SparkJobError", "evaluate_many", "fit_many", "predict_many", "score"]
