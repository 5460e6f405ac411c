"""What the boosting reference scripts share: a Sluice feature set's split as numpy arrays, and Sluice's holdout."""
import math

import duckdb
import numpy as np


def load(path, features, label, time_column):
    """The split's feature columns as one float32 matrix, the label, and each row's day."""
    columns = ", ".join(f'CAST("{f}" AS FLOAT) AS "{f}"' for f in features)
    result = duckdb.sql(f"SELECT {columns}, CAST(\"{label}\" AS FLOAT) AS y, CAST(\"{time_column}\" AS DATE) AS day FROM read_parquet('{path}')").fetchnumpy()
    return np.column_stack([result[f] for f in features]).astype(np.float32, copy=False), result["y"], np.asarray(result["day"], dtype="datetime64[D]")


def holdout(days, fraction):
    """The rows of the last `fraction` of the distinct days: the holdout Sluice's trainers early-stop on."""
    distinct = np.unique(days)
    return days >= distinct[-max(1, math.ceil(len(distinct) * fraction))]


def load_design(path, columns, label):
    """A split's design matrix as float32 (`columns`: [name, SQL] pairs, as Sluice's linear trainers read them) and the label."""
    selected = ", ".join(f"{sql} AS c{i}" for i, (_, sql) in enumerate(columns))
    result = duckdb.sql(f"SELECT {selected}, CAST(\"{label}\" AS FLOAT) AS y FROM read_parquet('{path}')").fetchnumpy()
    return np.column_stack([result[f"c{i}"] for i in range(len(columns))]).astype(np.float32, copy=False), result["y"]
