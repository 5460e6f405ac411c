"""The plain-Python way to batch-score the flights pipeline: DuckDB computes the features, ONNX Runtime
scores them in batches, DuckDB writes the scores as Parquet partitioned by day. What a user would write
without Sluice, done well: the features are fetched as an Arrow table or with fetchnumpy() (whichever
--mode says), and ONNX Runtime gets 65,536-row batches. With `lleaves` in CONFIG (a LightGBM model's text, a
cache file and a thread count) a tree model is scored by lleaves instead: compiled to native code with LLVM once
(outside the timing, as a user would cache it) and run over all the rows at once.

    python batch_score.py CONFIG.json --mode arrow|numpy

CONFIG gives the sources, statistics tables, SQL, feature names, model file and output folder.
Prints one JSON object: rows, seconds (features through published Parquet) and the fetch time.
"""
import json
import sys
import time

import duckdb
import numpy as np
import onnxruntime as ort
import pyarrow as pa

BATCH = 65_536


def onnx_scorer(model):
    session = ort.InferenceSession(model)
    input_name = session.get_inputs()[0].name

    def score(x):
        scores = np.empty(x.shape[0], dtype=np.float32)
        for start in range(0, x.shape[0], BATCH):
            batch = np.ascontiguousarray(x[start:start + BATCH])
            scores[start:start + BATCH] = session.run(["probability"], {input_name: batch})[0]
        return scores
    return score


def lleaves_scorer(settings):
    import lleaves

    model = lleaves.Model(model_file=settings["model_text"])
    model.compile(cache=settings["cache"])
    return lambda x: model.predict(np.ascontiguousarray(x, dtype=np.float64), n_jobs=settings["threads"]).astype(np.float32)


def main():
    config = json.load(open(sys.argv[1]))
    mode = sys.argv[sys.argv.index("--mode") + 1] if "--mode" in sys.argv else "arrow"
    con = duckdb.connect()
    con.execute(f"CREATE VIEW flights AS SELECT * FROM read_parquet('{config['flights']}')")
    con.execute(f"CREATE TABLE airports AS SELECT * FROM read_csv('{config['airports']}', header = true)")
    for name, path in config["stats"].items():
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
    con.execute(f"CREATE VIEW source AS SELECT *, ({config['label_sql']}) AS {config['label']} FROM ({config['extract_sql']})")
    score = lleaves_scorer(config["lleaves"]) if "lleaves" in config else onnx_scorer(config["model"])
    features = config["features"]
    keys = config["keys"]
    select = ", ".join([f"CAST({config['time_column']} AS DATE) AS day"] + keys + [f'CAST("{f}" AS FLOAT) AS "{f}"' for f in features])

    started = time.perf_counter()
    relation = con.sql(f"SELECT {select} FROM ({config['features_sql']})")
    if mode == "arrow":
        table = relation.arrow()
        if hasattr(table, "read_all"):
            table = table.read_all()
        fetched = time.perf_counter()
        x = np.column_stack([table[f].to_numpy() for f in features])
        out = table.select(["day"] + keys)
    else:
        arrays = relation.fetchnumpy()
        fetched = time.perf_counter()
        x = np.column_stack([arrays[f] for f in features])
        out = pa.table({c: arrays[c] for c in ["day"] + keys})
    scores = score(x)
    scored_at = time.perf_counter()
    out = out.append_column("score", pa.array(scores))
    out = out.append_column("model_version", pa.array(np.full(len(scores), 1, dtype=np.int32)))
    out = out.append_column("run_id", pa.array(["python-peer"] * len(scores)))
    con.register("scored", out)
    con.execute(f"COPY scored TO '{config['out']}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day), OVERWRITE_OR_IGNORE true)")
    finished = time.perf_counter()
    print(json.dumps({
        "mode": mode,
        "scorer": "lleaves" if "lleaves" in config else "onnxruntime",
        "duckdb": duckdb.__version__,
        "rows": int(x.shape[0]),
        "seconds": finished - started,
        "features_and_fetch_seconds": fetched - started,
        "score_seconds": scored_at - fetched,
        "write_seconds": finished - scored_at,
    }))


if __name__ == "__main__":
    main()
