"""Defaults of training on data larger than memory (``stream.fit_stream``) and in several processes
(``distributed.fit_data_parallel``).

They live here, in a module that imports nothing, so that ``mlpkit fit --help`` can show them without
importing JAX; the functions take their defaults from these names.
"""

#: Passes over the data.
STREAM_EPOCHS = 1
#: Rows held for shuffling (0 keeps the file's order).
STREAM_SHUFFLE_BUFFER = 10_000
#: Epochs without improvement of the held-out loss before stopping.
STREAM_PATIENCE = 3
#: Rows per ``partial_fit`` call when ``chunk_rows`` is not given.
STREAM_CHUNK_ROWS = 4096
#: File suffixes a stream reads.
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
#: Seconds before every process of a data-parallel fit is stopped.
DATA_PARALLEL_TIMEOUT = 600.0
