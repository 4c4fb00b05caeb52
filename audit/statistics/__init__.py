"""Statistics room: every table the report prints, reproducible from the case frame.

Pure functions over pandas DataFrames (no web, no database session inside except
`dataset.load_case_frame`, the one reader). All results are `tables.Table`.
"""
from audit.statistics.characteristics import cross_matrix, indicator_table
from audit.statistics.crosstabs import chi_square, cramers_v, crosstab, table2, table3
# `frequencies` (the function) is not re-exported: it would shadow the module of the same name.
from audit.statistics.frequencies import breakdowns, frequency
from audit.statistics.suppression import protected, suppress, suppress_together
from audit.statistics.tables import Table
from audit.statistics.weighting import design_of, weighted_share

__all__ = ["Table", "crosstab", "chi_square", "cramers_v", "cross_matrix", "indicator_table", "table2", "table3",
           "frequency", "breakdowns", "suppress", "suppress_together", "protected", "design_of", "weighted_share"]
