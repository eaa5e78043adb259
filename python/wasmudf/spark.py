"""
wasmudf.spark -- WebAssembly UDFs over Spark DataFrames.

    import wasmudf.spark
    df2 = wasmudf.spark.apply(df, "gcd.wasm", "gcd", ["a", "b"], "g")
    means = wasmudf.spark.aggregate(df, "aggregates.wasm", "avg", ["x"],
                                    group_by=["k"], alias="avg_x")

The module's bytes are read once on the driver and travel to the executors
inside the pickled task function (Spark broadcasts a task function larger
than spark.broadcast.UDFCompressionThreshold, 1 MiB by default, instead of
sending it with every task). Each executor's Python worker loads a module
once, keyed by the sha256 of its bytes; the on-disk compile cache
($WASMUDF_CACHE_DIR) makes the first load in another worker process cheap.

Scalar functions run in DataFrame.mapInArrow, one call per Arrow batch.
Aggregates run in two phases: mapInArrow folds each partition's rows into
one accumulator (one group per distinct key) and emits a partial state per
key; Spark shuffles them with groupBy(keys).agg(collect_list(state)), and a
second mapInArrow merges each batch of keys' states in one call and
finishes them. docs/spark.md has the details and the reasons.
"""
import dataclasses
import functools
import hashlib
import inspect
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.errors import PySparkException
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_type, to_arrow_type
from pyspark.sql.types import BinaryType, StructField, StructType

import wasmudf

__all__ = ["apply", "aggregate"]

# Rows per Arrow batch of the partial states a partition hands back to Spark.
_ROWS_PER_BATCH = 65536

# Modules loaded by this process: (sha256, timeout_ms, memory_limit) -> Module.
_modules = {}


@dataclasses.dataclass(frozen=True)
class _Source:
    """A module's bytes as shipped to the executors, with their sha256 and
    the load options."""

    wasm: bytes = dataclasses.field(repr=False)
    digest: str
    timeout_ms: int | None
    memory_limit: int | None

    def load(self):
        """Returns this process's wasmudf.Module of the bytes, loading it on
        first use."""
        key = (self.digest, self.timeout_ms, self.memory_limit)
        module = _modules.get(key)
        if module is None:
            module = wasmudf.load(self.wasm, timeout_ms=self.timeout_ms,
                                  memory_limit=self.memory_limit)
            _modules[key] = module
        return module


@dataclasses.dataclass(frozen=True)
class _ScalarPlan:
    """What an executor needs to run a scalar function over batches: the
    batch columns of its arguments, their declared types and the Arrow type
    of the result column that Spark reads back."""

    source: _Source
    function: str
    columns: tuple
    indices: tuple
    arg_types: tuple
    result_type: pa.DataType
    alias: str


@dataclasses.dataclass(frozen=True)
class _AggregatePlan:
    """What an executor needs for both phases of a grouped aggregate. The
    partial phase's batches hold the key columns, then the argument
    columns; its output holds the keys, then the state column. A state
    travels as its own Spark type when its Arrow type survives the trip
    through Spark unchanged (`native`), otherwise as wasmudf.serialize
    bytes. Between the phases, columns have the names of _key_name() and
    "state", so that no user's column name can clash with another."""

    source: _Source
    function: str
    keys: tuple
    columns: tuple
    arg_types: tuple
    state_type: pa.DataType
    state_arrow: pa.DataType
    native: bool
    result_type: pa.DataType
    alias: str


def apply(df, module, function, columns, alias=None, *, timeout_ms=None,
          memory_limit=None):
    """Returns `df` with a column `alias` (default: the function's name)
    holding scalar function `function` of the WebAssembly module `module`
    (a path or the module's bytes) applied to the columns named in
    `columns` (a list of names, one per argument, or one name).

    A column whose Arrow type differs from the argument's declared type is
    cast to it where no value can change (integers to wider or range-checked
    integers, floats to wider floats, strings to large strings, timestamps
    to other units checked for truncation, ...); any other mismatch fails
    here, and a value that does not fit fails the task naming the function
    and the column. The result's Spark type comes from the function's
    result type. Null handling is the function's: a strict function gives
    null where an argument is null. `timeout_ms` and `memory_limit` are
    wasmudf.load's options, applied in every executor.
    """
    source, label = _source(module, timeout_ms, memory_limit)
    f = _function(source, label, function, "scalar", "apply")
    alias = f.name if alias is None else alias
    if alias in df.columns:
        raise ValueError(f"wasmudf.spark.apply: function '{f.name}': the DataFrame already has "
                         f"a column '{alias}'; choose another alias")
    timezone, large = _arrow_settings(df)
    columns = _column_list(columns)
    arg_types = _argument_types(df, f, columns, timezone, large)
    result_spark, result_type = _result_types(f, timezone, large)
    plan = _ScalarPlan(source, f.name, tuple(columns),
                       tuple(df.columns.index(name) for name in columns), arg_types,
                       result_type, alias)
    schema = StructType(list(df.schema.fields) + [StructField(alias, result_spark, True)])
    return df.mapInArrow(functools.partial(_apply_batches, plan), schema)


def aggregate(df, module, function, columns, group_by=(), alias=None, *, timeout_ms=None,
              memory_limit=None):
    """Returns a DataFrame with one row per distinct value of the `group_by`
    columns: those columns, then a column `alias` (default: the function's
    name) holding aggregate function `function` of the WebAssembly module
    `module` (a path or the module's bytes) over the columns named in
    `columns` (a list of names, one per argument, or one name; `group_by`
    likewise). Without `group_by` the result is one row
    over all of `df` (the function's value of an empty group when `df` has
    no rows).

    Each partition folds its rows into per-key partial states; Spark
    shuffles those by key and collects each key's states into a list; a
    second pass merges every list and finishes the groups, many keys per
    guest call. Null keys form a group, as in Spark's groupBy. Arguments are
    converted as in apply(); `timeout_ms` and `memory_limit` are
    wasmudf.load's options.
    """
    source, label = _source(module, timeout_ms, memory_limit)
    f = _function(source, label, function, "aggregate", "aggregate")
    alias = f.name if alias is None else alias
    keys = _column_list(group_by)
    for key in keys:
        _field(df, key, f.name, "group_by column")
    if len(set(keys)) != len(keys):
        raise ValueError(f"wasmudf.spark.aggregate: function '{f.name}': group_by names a "
                         f"column twice: {keys}")
    if alias in keys:
        raise ValueError(f"wasmudf.spark.aggregate: function '{f.name}': the alias '{alias}' "
                         "is also a group_by column; choose another alias")
    timezone, large = _arrow_settings(df)
    columns = _column_list(columns)
    arg_types = _argument_types(df, f, columns, timezone, large)
    _check_groupable(df, keys, f.name, timezone, large)
    result_spark, result_type = _result_types(f, timezone, large)
    state_type = pa.field(f.state_schema).type
    state_spark = _same_type_in_spark(state_type, timezone, large)
    native = state_spark is not None
    if not native:
        state_spark = BinaryType()
    state_arrow = state_type if native else _to_arrow_type(state_spark, timezone, large)
    plan = _AggregatePlan(source, f.name, tuple(keys), tuple(columns), arg_types, state_type,
                          state_arrow, native, result_type, alias)
    key_names = [_key_name(i) for i in range(len(keys))]
    key_fields = [df.schema[key] for key in keys]
    inputs = ([_column(key).alias(name) for key, name in zip(keys, key_names)]
              + [_column(column).alias(f"arg{i}") for i, column in enumerate(columns)])
    partial_schema = StructType(
        [StructField(name, field.dataType, field.nullable)
         for name, field in zip(key_names, key_fields)]
        + [StructField("state", state_spark, True)])
    partials = df.select(*inputs).mapInArrow(functools.partial(_partial_states, plan),
                                             partial_schema)
    collected = partials.groupBy(*key_names).agg(
        F.collect_list(F.struct("state") if native else "state").alias("states"))
    result_schema = StructType(key_fields + [StructField(alias, result_spark, True)])
    return collected.mapInArrow(functools.partial(_finish_groups, plan), result_schema)


# ----------------------------------------------------------------- executors


def _apply_batches(plan, batches):
    """Yields each batch with the function's result over it appended (runs
    in the executors' Python workers)."""
    function = plan.source.load()[plan.function]
    for batch in batches:
        arguments = [_argument(plan.function, name, batch.column(index), arg_type)
                     for name, index, arg_type in zip(plan.columns, plan.indices, plan.arg_types)]
        result = _spark_column(pa.array(function(*(arguments or _no_arguments(batch)))),
                               plan.result_type)
        yield pa.RecordBatch.from_arrays(batch.columns + [result],
                                         names=batch.schema.names + [plan.alias])


def _partial_states(plan, batches):
    """Folds one partition's rows into one accumulator, a group per distinct
    key, and yields the keys with their partial states (runs in the
    executors' Python workers)."""
    accumulator = plan.source.load()[plan.function].accumulator()
    key_count = len(plan.keys)
    groups = {}
    first_seen = []
    for batch in batches:
        if batch.num_rows == 0:
            continue
        arguments = [_argument(plan.function, name, batch.column(key_count + i), arg_type)
                     for i, (name, arg_type) in enumerate(zip(plan.columns, plan.arg_types))]
        arguments = arguments or _no_arguments(batch)
        if key_count:
            ids, fresh = _group_ids(batch, key_count, groups)
            first_seen.append(fresh)
            accumulator.update(*arguments, groups=ids, group_count=len(groups))
        else:
            accumulator.update(*arguments, group_count=1)
    if accumulator.group_count == 0:
        return
    states = pa.array(accumulator.state())
    if not plan.native:
        states = pa.array([wasmudf.serialize(states.slice(row, 1)) for row in range(len(states))],
                          plan.state_arrow)
    keys = pa.concat_tables(first_seen).columns if key_count else []
    names = [_key_name(i) for i in range(key_count)] + ["state"]
    table = pa.Table.from_arrays(keys + [states], names=names)
    yield from table.to_batches(max_chunksize=_ROWS_PER_BATCH)


def _finish_groups(plan, batches):
    """Merges the collected partial states of each key of a batch into one
    accumulator, a group per row, and yields the keys with the function's
    results (runs in the executors' Python workers)."""
    function = plan.source.load()[plan.function]
    key_count = len(plan.keys)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        lists = batch.column(key_count)
        flat = pc.list_flatten(lists)
        if plan.native:
            states = flat.field(0)
            if states.type != plan.state_type:
                states = states.cast(plan.state_type)
        else:
            parts = [pa.array(wasmudf.deserialize(blob)) for blob in flat.to_pylist()]
            states = pa.concat_arrays(parts) if parts else pa.array([], plan.state_type)
        accumulator = function.accumulator()
        accumulator.merge(states, groups=pc.list_parent_indices(lists).cast(pa.uint32()),
                          group_count=batch.num_rows)
        result = _spark_column(pa.array(accumulator.finish()), plan.result_type)
        yield pa.RecordBatch.from_arrays(batch.columns[:key_count] + [result],
                                         names=[*plan.keys, plan.alias])


def _group_ids(batch, key_count, groups):
    """Returns the group id of every row of `batch` (its first `key_count`
    columns are the keys) as a uint32 numpy array, adding keys not seen
    before to `groups` (key values -> id), and a table of those new keys in
    id order. Keys are compared as Python values; timestamps, times and
    durations as their integers, which Python's datetime types could not
    all hold exactly."""
    names = [_key_name(i) for i in range(key_count)]
    table = pa.Table.from_arrays(batch.columns[:key_count] + [pa.array(np.arange(batch.num_rows))],
                                 names=names + ["row"])
    distinct = table.group_by(names, use_threads=False).aggregate([("row", "list")])
    values = []
    for column in distinct.select(names).columns:
        t = pa.types
        if t.is_timestamp(column.type) or t.is_time64(column.type) or t.is_duration(column.type):
            column = column.cast(pa.int64())
        values.append(column.to_pylist())
    local = np.empty(distinct.num_rows, np.uint32)
    fresh = np.zeros(distinct.num_rows, bool)
    for index, key in enumerate(zip(*values)):
        group = groups.get(key)
        if group is None:
            group = groups[key] = len(groups)
            fresh[index] = True
        local[index] = group
    rows = distinct.column("row_list").combine_chunks()
    ids = np.empty(batch.num_rows, np.uint32)
    ids[pc.list_flatten(rows).to_numpy()] = np.repeat(local, pc.list_value_length(rows).to_numpy())
    return ids, distinct.filter(pa.array(fresh)).select(names)


def _key_name(index):
    """Returns the name of key column `index` between the phases of an
    aggregate."""
    return f"key{index}"


def _no_arguments(batch):
    """Returns the arguments of a function without any for the rows of
    `batch`: a record batch without columns, which carries the row count."""
    return [batch.select([])]


def _argument(function, name, column, arg_type):
    """Returns `column` as `arg_type`, the argument's declared type, cast by
    pyarrow's safe cast, which fails on a value it would change."""
    if column.type == arg_type:
        return column
    try:
        return column.cast(arg_type)
    except pa.ArrowException as error:
        raise ValueError(f"wasmudf.spark: function '{function}': column '{name}' ({column.type}) "
                         f"has a value that does not convert to {arg_type} without loss: "
                         f"{error}") from None


def _spark_column(result, target):
    """Returns `result` as `target`, the Arrow type Spark reads back for the
    column (checked on the driver to be a lossless conversion)."""
    return result if result.type == target else result.cast(target)


# -------------------------------------------------------------------- driver


def _source(module, timeout_ms, memory_limit):
    """Reads the module (a path or bytes) and returns its _Source and a label
    for messages."""
    if isinstance(module, (bytes, bytearray, memoryview)):
        wasm, label = bytes(module), "the module"
    else:
        with open(module, "rb") as file:
            wasm = file.read()
        label = f"module '{os.fspath(module)}'"
    return _Source(wasm, hashlib.sha256(wasm).hexdigest(), timeout_ms, memory_limit), label


def _function(source, label, name, kind, caller):
    """Loads the module on the driver and returns its function `name`,
    checking that it exists and is of `kind`."""
    module = source.load()
    if name not in module:
        known = ", ".join(f.name for f in module.functions) or "none"
        raise ValueError(f"wasmudf.spark.{caller}: {label} has no function '{name}' "
                         f"(its functions: {known})")
    f = module[name]
    if f.kind != kind:
        article = "an" if f.kind[0] in "aeiou" else "a"
        raise ValueError(f"wasmudf.spark.{caller}: function '{name}' is {article} {f.kind} "
                         f"function ({f.signature}); {caller}() runs {kind} functions")
    return f


def _column_list(names):
    """Returns `names` (one column name or a sequence of them) as a list."""
    return [names] if isinstance(names, str) else list(names)


def _column(name):
    """Returns a Column naming top-level column `name` literally (dots and
    backticks included)."""
    return F.col("`" + name.replace("`", "``") + "`")


def _field(df, name, function, what):
    """Returns the StructField of column `name` of `df`."""
    if name not in df.columns:
        raise ValueError(f"wasmudf.spark: function '{function}': {what} '{name}' is not a column "
                         f"of the DataFrame (its columns: {', '.join(df.columns)})")
    return df.schema[name]


def _arrow_settings(df):
    """Returns the session's time zone and whether Spark's Arrow batches use
    large strings and binaries, which decide the Arrow types Spark sends
    and expects."""
    conf = df.sparkSession.conf
    large = conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false").lower() == "true"
    return conf.get("spark.sql.session.timeZone"), large


def _to_arrow_type(spark_type, timezone, large):
    """Returns PySpark's Arrow type of `spark_type`. PySpark releases
    differ: older ones give TimestampType as timestamp(us, "UTC") (their
    `timestamp_utc` parameter), newer ones (4.3) take the session's time
    zone, which the JVM's Arrow batches carry."""
    if "timezone" in inspect.signature(to_arrow_type).parameters:
        return to_arrow_type(spark_type, timezone=timezone, prefers_large_types=large)
    return to_arrow_type(spark_type, prefers_large_types=large)


def _spark_arrow_type(field, function, timezone, large):
    """Returns the Arrow type in which Spark hands column `field` to Python."""
    try:
        return _to_arrow_type(field.dataType, timezone, large)
    except PySparkException as error:
        raise ValueError(f"wasmudf.spark: function '{function}': column '{field.name}' "
                         f"({field.dataType.simpleString()}) has no Arrow type: {error}") from None


def _argument_types(df, f, columns, timezone, large):
    """Checks that `columns` name one column per argument of `f`, each
    convertible to the argument's declared type without loss, and returns
    the declared Arrow types."""
    declared = tuple(field.type for field in pa.schema(f.arg_schema))
    if len(columns) != len(declared):
        raise ValueError(f"wasmudf.spark: function '{f.name}' takes {len(declared)} "
                         f"argument(s) ({f.signature}), but {len(columns)} column(s) were "
                         f"given: {columns}")
    for position, (name, arg_type) in enumerate(zip(columns, declared), start=1):
        field = _field(df, name, f.name, "column")
        spark_type = _spark_arrow_type(field, f.name, timezone, large)
        if not _lossless(spark_type, arg_type):
            raise ValueError(f"wasmudf.spark: function '{f.name}': column '{name}' "
                             f"({field.dataType.simpleString()}, Arrow {spark_type}) cannot be "
                             f"argument {position} ({arg_type}) without loss; cast the column "
                             "in Spark first")
    return declared


def _result_types(f, timezone, large):
    """Returns the Spark type of `f`'s result and the Arrow type Spark reads
    for it, failing when Spark has no type that holds every result value."""
    arrow_type = pa.field(f.result_schema).type
    try:
        spark_type = from_arrow_type(arrow_type, prefer_timestamp_ntz=True)
        target = _to_arrow_type(spark_type, timezone, large)
    except PySparkException:
        raise ValueError(f"wasmudf.spark: function '{f.name}' returns {f.result_type}, which has "
                         "no Spark type") from None
    if not _lossless(arrow_type, target):
        raise ValueError(f"wasmudf.spark: function '{f.name}' returns {f.result_type}, which "
                         f"Spark's {spark_type.simpleString()} cannot hold without loss")
    return spark_type, target


def _same_type_in_spark(arrow_type, timezone, large):
    """Returns the Spark type that Spark hands back to Python as exactly
    `arrow_type`, or None when there is none."""
    try:
        spark_type = from_arrow_type(arrow_type, prefer_timestamp_ntz=True)
        back = _to_arrow_type(spark_type, timezone, large)
    except PySparkException:
        return None
    return spark_type if back == arrow_type else None


def _check_groupable(df, keys, function, timezone, large):
    """Checks that pyarrow can group by each key column's Arrow type, as the
    partial phase does."""
    for key in keys:
        field = df.schema[key]
        arrow_type = _spark_arrow_type(field, function, timezone, large)
        try:
            pa.table({"k": pa.array([], arrow_type), "row": pa.array([], pa.int64())}).group_by(
                ["k"], use_threads=False).aggregate([("row", "list")])
        except pa.ArrowException as error:
            raise ValueError(f"wasmudf.spark.aggregate: function '{function}': cannot group by "
                             f"column '{key}' ({field.dataType.simpleString()}): {error}") from None


def _lossless(source, target):
    """Whether an Arrow `source` column becomes a `target` column by
    pyarrow's safe cast without changing any value it accepts (the safe
    cast rejects values out of range or truncated)."""
    t = pa.types
    if source == target:
        return True
    if t.is_dictionary(source):
        return _lossless(source.value_type, target)
    if t.is_integer(source):
        return (t.is_integer(target) or t.is_decimal(target)
                or (t.is_floating(target) and target.bit_width >= 32))
    if t.is_floating(source):
        return t.is_floating(target) and target.bit_width >= source.bit_width
    if t.is_decimal(source):
        return t.is_decimal(target)
    if _is_string(source):
        return _is_string(target) or _is_binary(target)
    if _is_binary(source) or t.is_fixed_size_binary(source):
        return _is_binary(target) or t.is_fixed_size_binary(target)
    if t.is_timestamp(source):
        return t.is_timestamp(target) and (source.tz is None) == (target.tz is None)
    for family in (t.is_date, t.is_time, t.is_duration):
        if family(source):
            return family(target)
    if _is_list(source):
        return _is_list(target) and _lossless(source.value_type, target.value_type)
    if t.is_map(source):
        return (t.is_map(target) and _lossless(source.key_type, target.key_type)
                and _lossless(source.item_type, target.item_type))
    if t.is_struct(source):
        return (t.is_struct(target) and source.num_fields == target.num_fields
                and all(a.name == b.name and _lossless(a.type, b.type)
                        for a, b in zip(source, target)))
    return False


def _is_string(arrow_type):
    """Whether `arrow_type` is utf8 in any layout."""
    return arrow_type in (pa.string(), pa.large_string(), pa.string_view())


def _is_binary(arrow_type):
    """Whether `arrow_type` is variable-size binary in any layout."""
    return arrow_type in (pa.binary(), pa.large_binary(), pa.binary_view())


def _is_list(arrow_type):
    """Whether `arrow_type` is a list in any layout."""
    t = pa.types
    return t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type)
