"""
wasmudf.duckdb -- WebAssembly UDFs in DuckDB.

    import duckdb, wasmudf.duckdb
    con = duckdb.connect()
    wasmudf.duckdb.register(con, "gcd.wasm", prefix="wasm_")   # scalar functions
    con.sql("SELECT wasm_gcd(a, b) FROM t")
    wasmudf.duckdb.table(con, "tables.wasm", "series", "SELECT start, stop FROM r",
                         view="numbers")                     # a table function's rows
    wasmudf.duckdb.aggregate(con, "aggregates.wasm", "avg", "SELECT k, x FROM t",
                             args=["x"], group_by=["k"])     # a grouped aggregate

Scalar functions become DuckDB functions over Arrow (`create_function(...,
type="arrow")`); table functions become relations over their output stream;
aggregates run through an accumulator fed with groups that DuckDB numbers.
The DuckDB type of each declared type is the one DuckDB's own Arrow import
gives it, so DuckDB takes whatever a function returns as it is.
docs/duckdb.md has the types, null handling, threads and limits.
"""
from __future__ import annotations

import inspect
import os

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

import wasmudf

__all__ = ["aggregate", "register", "sql_type", "table"]

# The column of group ids that aggregate() adds to the keys; the arguments
# are read by position, so the name only has to differ from the keys'.
_GROUP = "__wasmudf_group"


def register(con, source, *, prefix="", functions=None, timeout_ms=None, memory_limit=None):
    """Registers scalar functions of a module as DuckDB functions and returns
    their SQL names.

    `source` is a path or the bytes of a .wasm module, or a loaded
    wasmudf.Module (then `timeout_ms` and `memory_limit` must be None: they
    are options of loading). Every scalar function is registered, or those
    named in `functions`, each as `prefix` + its name. The DuckDB types come
    from the declared signature (sql_type); a strict function gets DuckDB's
    default null handling, a function CALLED ON NULL INPUT sees nulls
    (null_handling="special"), and a function not declared DETERMINISTIC is
    registered with side effects, so DuckDB neither folds nor caches its
    calls. The calls of all DuckDB threads go to the module's default
    instance, one at a time (docs/duckdb.md, Threads). Every type is checked
    before anything is registered; if DuckDB refuses one function, those
    registered by this call are removed again.
    """
    module = _load(source, timeout_ms, memory_limit)
    if functions is None:
        chosen = [f for f in module.functions if f.kind == "scalar"]
    else:
        chosen = [_function(module, name, "scalar") for name in functions]
    plans = [_scalar_plan(con, f) for f in chosen]
    registered = []
    try:
        for f, call, parameters, result in plans:
            con.create_function(prefix + f.name, call, parameters, result, type="arrow",
                                null_handling="default" if f.strict else "special",
                                side_effects=not f.deterministic)
            registered.append(prefix + f.name)
    except duckdb.Error as error:
        for name in registered:
            con.remove_function(name)
        raise type(error)(f"wasmudf.duckdb.register: {f.signature} as "
                          f"{prefix + f.name!r}: {error}") from error
    return registered


def table(con, source, name, query, *, args=None, keep=(), view=None, timeout_ms=None,
          memory_limit=None):
    """Returns a DuckDB relation over the rows of table function `name` called
    on every row of `query`.

    `query` (SQL text or a DuckDB relation) runs once, now, on `con`; its
    result is kept in memory as the function's input. The arguments are the
    columns named in `args` (by default every column not in `keep`), in the
    function's argument order, cast by DuckDB to the declared types. The
    relation's columns are `input_row` (BIGINT: the 0-based row of the
    query's result that produced the row), then the `keep` columns (copied
    from that input row), then the function's columns. Every scan of the
    relation calls the function again, streaming chunks of at most 65,536
    rows, so the output is never held whole; the relation can be scanned
    any number of times. With `view`, it is also registered as a view of
    that name (replacing one of the same name), so SQL can join or
    aggregate it.
    """
    module = _load(source, timeout_ms, memory_limit)
    function = _function(module, name, "table")
    relation = con.sql(query) if isinstance(query, str) else query
    keep = list(keep)
    if args is None:
        args = [column for column in relation.columns if column not in keep]
    declared = _arguments(function, args, relation.columns, keep)
    types = [_argument_type(con, function, i, t) for i, t in enumerate(declared)]
    expressions = [f"CAST({_quote(column)} AS {sql}) AS {_quote(column)}"
                   for column, sql in zip(args, types)]
    inputs = relation.project(", ".join(expressions + [_quote(column) for column in keep]))
    rows = _TableRows(function, inputs.to_arrow_table(), len(args), declared)
    output = con.from_arrow(rows)
    if view is not None:
        output.create_view(view, replace=True)
    return output


def aggregate(con, source, name, query, *, args, group_by=(), view=None, timeout_ms=None,
              memory_limit=None, batch_size=1 << 20):
    """Returns a DuckDB relation of aggregate `name` over `query`, grouped by
    the columns in `group_by`: the key columns, then a column named after
    the function.

    `args` names the columns of `query` (SQL text or a DuckDB relation) that
    are the arguments, in the function's order; DuckDB casts them to the
    declared types. DuckDB numbers the distinct keys in key order (nulls
    last, NULL being a key as in GROUP BY) and joins the numbers back to the
    rows, which then stream in record batches of at most `batch_size` rows
    into one accumulator of the function; the result has one row per key, in
    that order. The query runs twice (once for the keys, once for the rows),
    so it must return the same rows both times. Without `group_by` the
    result is one row over all rows, as SQL's aggregates without GROUP BY
    (the function's value for no rows when there are none). With `view`,
    the relation is also registered as a view of that name (replacing one
    of the same name).
    """
    module = _load(source, timeout_ms, memory_limit)
    function = _function(module, name, "aggregate")
    relation = con.sql(query) if isinstance(query, str) else query
    keys = list(group_by)
    if name in keys:
        raise ValueError(f"wasmudf.duckdb.aggregate: {function.signature}: the result column "
                         f"{name!r} would have the name of a group_by column")
    declared = _arguments(function, list(args), relation.columns, keys)
    types = [_argument_type(con, function, i, t) for i, t in enumerate(declared)]
    casts = [f"CAST(input.{_quote(column)} AS {sql})" for column, sql in zip(args, types)]
    if keys:
        quoted = ", ".join(_quote(key) for key in keys)
        order = ", ".join(f"{_quote(key)} NULLS LAST" for key in keys)
        groups = (relation.project(quoted).distinct()
                  .project(f"{quoted}, (row_number() OVER (ORDER BY {order}) - 1)::UINTEGER "
                           f"AS {_GROUP}")
                  .order(_GROUP).to_arrow_table())
        matches = " AND ".join(f"input.{_quote(key)} IS NOT DISTINCT FROM groups.{_quote(key)}"
                               for key in keys)
        rows = (relation.set_alias("input")
                .join(con.from_arrow(groups).set_alias("groups"), matches)
                .project(", ".join([f"groups.{_GROUP}"] + casts)))
        first, group_count = 1, groups.num_rows
    else:
        rows = relation.set_alias("input").project(", ".join(casts))
        first, group_count = 0, 1
    accumulator = function.accumulator()
    if group_count:
        # An empty update first: the accumulator then has every group, even
        # when no rows arrive (an empty input without keys has one row).
        accumulator.update(*[pa.array([], t) for t in declared],
                           groups=pa.array([], pa.uint32()), group_count=group_count)
    # Closed on an error too: a reader left open keeps the connection busy.
    with rows.to_arrow_reader(batch_size) as reader:
        for batch in reader:
            arguments = [_convert(function, i, batch.column(first + i), t)
                         for i, t in enumerate(declared)]
            accumulator.update(*arguments, groups=batch.column(0) if keys else None,
                               group_count=group_count)
    result = pa.array(accumulator.finish())
    if keys:
        output = groups.drop_columns([_GROUP]).append_column(name, result)
    else:
        output = pa.table({name: result})
    relation = con.from_arrow(output)
    if view is not None:
        relation.create_view(view, replace=True)
    return relation


def sql_type(con, arrow_type):
    """Returns the DuckDB type (a DuckDBPyType) that holds values of pyarrow
    type `arrow_type`: the one DuckDB's Arrow import of connection `con`
    gives it, so arrays of `arrow_type` go into DuckDB as they are. Raises
    TypeError for a type DuckDB cannot import (float16, decimal256, dense
    unions, ...)."""
    if pa.types.is_dictionary(arrow_type) and _holds_dictionary(arrow_type.value_type):
        # DuckDB's import reads such values as their indices, or fails.
        raise TypeError(f"DuckDB cannot take Arrow type {arrow_type}: a dictionary's values "
                        f"must not be or hold dictionaries")
    schema = pa.schema([pa.field("value", arrow_type)])
    try:
        return con.from_arrow(pa.RecordBatchReader.from_batches(schema, [])).types[0]
    except (duckdb.Error, pa.ArrowException) as error:
        raise TypeError(f"DuckDB cannot take Arrow type {arrow_type}: {error}") from error


def _holds_dictionary(arrow_type):
    """Tells whether `arrow_type` is or holds a dictionary type."""
    if pa.types.is_dictionary(arrow_type):
        return True
    if pa.types.is_run_end_encoded(arrow_type):
        return _holds_dictionary(arrow_type.value_type)
    return any(_holds_dictionary(arrow_type.field(i).type) for i in range(arrow_type.num_fields))


class _TableRows:
    """The output of a table function over a kept input, as an Arrow stream
    that DuckDB may read any number of times: each read calls the function
    again on every input batch."""

    def __init__(self, function, inputs, arg_count, declared):
        self.function = function
        self.inputs = inputs
        self.arg_count = arg_count
        self.declared = declared
        chunk = pa.field(function.result_schema).type
        kept = [inputs.schema.field(i) for i in range(arg_count, inputs.num_columns)]
        columns = [chunk.field(i) for i in range(1, chunk.num_fields)]
        names = [field.name for field in kept + columns]
        if len(set(names)) != len(names) or "input_row" in names:
            raise ValueError(f"wasmudf.duckdb.table: {function.signature}: the kept columns "
                             f"{[field.name for field in kept]} and the function's columns "
                             f"{[field.name for field in columns]} must have distinct names, "
                             f"none of them input_row")
        self.schema = pa.schema([pa.field("input_row", pa.int64(), nullable=False)]
                                + kept + columns)

    def __arrow_c_schema__(self):
        """Exports the schema of the rows (Arrow PyCapsule interface)."""
        return self.schema.__arrow_c_schema__()

    def __arrow_c_stream__(self, requested_schema=None):
        """Starts a new pass over the rows (Arrow PyCapsule interface)."""
        reader = pa.RecordBatchReader.from_batches(self.schema, self._batches())
        return reader.__arrow_c_stream__(requested_schema)

    def _batches(self):
        """Yields the output's record batches, input_row counted over the
        whole input."""
        offset = 0
        for batch in self.inputs.to_batches():
            arguments = [_convert(self.function, i, batch.column(i), t)
                         for i, t in enumerate(self.declared)]
            kept = batch.columns[self.arg_count:]
            for chunk in self.function(*arguments):
                rows = pa.RecordBatch.from_struct_array(pa.array(chunk))
                local = rows.column(0)
                columns = ([pc.add(local, offset)] + [column.take(local) for column in kept]
                           + rows.columns[1:])
                yield pa.RecordBatch.from_arrays(columns, schema=self.schema)
            offset += batch.num_rows


def _scalar_plan(con, function):
    """Returns (function, callable, parameter types, result type) of one
    scalar function, checking that DuckDB can pass every argument and take
    the result."""
    declared = list(pa.schema(function.arg_schema).types)
    if not declared:
        raise TypeError(f"wasmudf.duckdb.register: {function.signature}: DuckDB's Arrow "
                        f"functions cannot tell a function without arguments how many rows "
                        f"to return")
    parameters = [_argument_type(con, function, i, t) for i, t in enumerate(declared)]
    result = _declared_sql_type(con, function, "the result",
                                pa.field(function.result_schema).type)

    def call(*columns):
        arguments = [_convert(function, i, _one_chunk(column), t)
                     for i, (column, t) in enumerate(zip(columns, declared))]
        return pa.array(function(*arguments))

    # DuckDB counts the parameters of the callable it is given.
    call.__signature__ = _positional_signature(len(declared))
    call.__name__ = call.__qualname__ = function.name
    return function, call, parameters, result


def _argument_type(con, function, index, declared):
    """Returns the DuckDB type of argument `index` of `function`, declared as
    pyarrow type `declared`, after checking that what DuckDB passes for it
    converts back to `declared`."""
    sql = _declared_sql_type(con, function, f"argument {index + 1}", declared)
    passed = con.sql(f"SELECT CAST(NULL AS {sql}) AS value LIMIT 0").to_arrow_table()
    passed_type = passed.schema.field(0).type
    if passed_type != declared:
        try:
            _cast(pa.array([], passed_type), declared)
        except pa.ArrowException as error:
            raise TypeError(f"wasmudf.duckdb: {function.signature}: DuckDB passes argument "
                            f"{index + 1} ({sql}) as Arrow {passed_type}, which pyarrow cannot "
                            f"convert to the declared {declared} ({error})") from error
    return sql


def _declared_sql_type(con, function, what, declared):
    """Returns the DuckDB type of `declared`, the pyarrow type of `what` (an
    argument or the result) of `function`."""
    try:
        return sql_type(con, declared)
    except TypeError as error:
        raise TypeError(f"wasmudf.duckdb: {function.signature}: {what}: {error}") from error


def _convert(function, index, column, declared):
    """Returns argument `index` of `function` as an array of its declared
    type, converting what DuckDB handed over when its Arrow type differs
    (large strings, views, dictionaries, other time units or zones)."""
    if column.type == declared:
        return column
    try:
        return _cast(column, declared)
    except pa.ArrowException as error:
        raise ValueError(f"{function.signature}: argument {index + 1}: DuckDB's {column.type} "
                         f"values do not convert to the declared {declared}: {error}") from error


def _cast(column, declared):
    """Returns `column` cast to `declared`, dictionary- or run-end-encoding
    it when `declared` is such an encoding of a plain type (pyarrow's cast
    encodes only strings into dictionaries, and nothing into runs)."""
    if pa.types.is_dictionary(declared) and not pa.types.is_dictionary(column.type):
        encoded = pc.dictionary_encode(_cast(column, declared.value_type))
        return encoded.cast(declared)
    if pa.types.is_run_end_encoded(declared) and not pa.types.is_run_end_encoded(column.type):
        return pc.run_end_encode(_cast(column, declared.value_type),
                                 run_end_type=declared.run_end_type)
    return column.cast(declared)


def _one_chunk(column):
    """Returns a ChunkedArray's only chunk (what DuckDB hands a function),
    or its chunks concatenated."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _positional_signature(count):
    """Returns a signature of `count` positional parameters."""
    return inspect.Signature([inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY)
                              for i in range(count)])


def _load(source, timeout_ms, memory_limit):
    """Returns the module of `source`: a wasmudf.Module as it is, or one
    loaded from a path or bytes with the given limits."""
    if isinstance(source, wasmudf.Module):
        if timeout_ms is not None or memory_limit is not None:
            raise ValueError("timeout_ms and memory_limit are options of loading a module: "
                             "pass them to wasmudf.load(), or pass a path or bytes here")
        return source
    if not isinstance(source, (str, bytes, os.PathLike)):
        raise TypeError(f"expected a wasmudf.Module, a path or bytes, got "
                        f"{type(source).__name__}")
    return wasmudf.load(source, timeout_ms=timeout_ms, memory_limit=memory_limit)


def _function(module, name, kind):
    """Returns function `name` of `module`, which must be of `kind`."""
    if name not in module:
        raise KeyError(f"the module has no function {name!r} (it has "
                       f"{', '.join(f.name for f in module.functions)})")
    function = module[name]
    if function.kind != kind:
        raise TypeError(f"{function.signature} is a {function.kind} function, not a {kind} one")
    return function


def _arguments(function, args, columns, others):
    """Checks the argument columns `args` of `function` against the query's
    `columns` and the other columns used (`others`); returns the declared
    pyarrow types of the arguments."""
    declared = list(pa.schema(function.arg_schema).types)
    missing = [column for column in list(args) + others if column not in columns]
    if missing:
        raise ValueError(f"{function.signature}: the query has no column "
                         f"{', '.join(map(repr, missing))} (it has {', '.join(columns)})")
    if len(args) != len(declared):
        raise ValueError(f"{function.signature} takes {len(declared)} arguments, "
                         f"got the columns {args}")
    return declared


def _quote(identifier):
    """Returns `identifier` quoted for SQL."""
    return '"' + identifier.replace('"', '""') + '"'
