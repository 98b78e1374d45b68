using System.Text;

namespace PiBench.StandIns;

/// <summary>
/// What Arroyo v0.11.0's <c>validate_query</c> rejects, for the stand-in. NOT a planner: it tokenizes the script as
/// sqlparser 0.44 (PostgreSqlDialect) would, splits statements, and checks only what PiBench's queries can get wrong:
/// <list type="bullet">
/// <item>column types of CREATE TABLE (arroyo-planner/src/types.rs <c>convert_simple_data_type</c>, v0.11.0), the
/// <c>STRUCT&lt;…&gt;</c> column that sqlparser 0.44 cannot even parse in the Postgres dialect, and the types a
/// connection table can hold (arroyo-rpc/src/api_types/connections.rs <c>TryFrom&lt;Field&gt; for SourceField</c>);</item>
/// <item>generated columns planned against the physical columns only (arroyo-planner/src/tables.rs
/// <c>schema_from_columns</c>): a generation expression may not name another generated column;</item>
/// <item>WITH options as the connector pulls them (arroyo-planner/src/tables.rs <c>ConnectorTable::from_options</c>,
/// arroyo-rpc/src/formats.rs <c>from_opts</c>, arroyo-connectors/src/kafka/mod.rs, blackhole/mod.rs): required and
/// allowed keys, enum values, and "unknown options provided in WITH clause" for anything left over;</item>
/// <item>event_time_field / watermark_field naming a TIMESTAMP column (tables.rs <c>get_time_field</c>);</item>
/// <item>functions: every <c>name(</c> must be a function 0.11 registers (arroyo-planner/src/lib.rs
/// <c>ArroyoSchemaProvider::new</c>: hop, tumble, session, unnest, the JSON functions of json.rs, DataFusion 37's
/// built-ins) with the window functions' arity; tables and views read must exist; a script needs an INSERT.</item>
/// </list>
/// It does not type-check expressions, joins, windows or updating semantics: a query that passes here can still be
/// rejected by the real planner (the README lists what only a real cluster confirms). Messages follow the upstream
/// format strings; the DataFusion wrappers ("SQL error: ParserError(…)", "Error during planning: …", "Schema error:
/// …", "caused by") are DataFusion 37's <c>DataFusionError</c> Display.
/// </summary>
public static class Arroyo011SqlChecker
{
    /// <summary>The connectors of arroyo-connectors/src/lib.rs <c>connectors()</c> at v0.11.0.</summary>
    public static readonly IReadOnlySet<string> Connectors = new HashSet<string>(StringComparer.Ordinal)
    {
        "blackhole", "confluent", "delta", "filesystem", "fluvio", "impulse", "kafka", "kinesis", "mqtt", "nats",
        "nexmark", "polling_http", "preview", "redis", "sse", "single_file", "stdout", "webhook", "websocket",
    };

    /// <summary>
    /// Scalar, aggregate and window functions 0.11 knows: Arroyo's own (lib.rs, json.rs) and DataFusion 37.1's
    /// (datafusion-functions <c>register_all</c>, functions-array, built-in aggregates and window functions).
    /// A subset of DataFusion's list: the ones a Nexmark query could use; an unlisted real function is a false reject
    /// that the test would show, not a silent pass.
    /// </summary>
    public static readonly IReadOnlySet<string> Functions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        // arroyo-planner/src/lib.rs ArroyoSchemaProvider::new, json.rs get_json_functions
        "hop", "tumble", "session", "unnest", "get_first_json_object", "extract_json", "extract_json_string",
        // aggregates
        "count", "sum", "min", "max", "avg", "mean", "stddev", "variance", "approx_distinct", "array_agg", "first_value", "last_value",
        // window functions
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "nth_value",
        // datafusion-functions 37: string, unicode, regex, datetime, math, core
        "lower", "upper", "trim", "btrim", "ltrim", "rtrim", "replace", "split_part", "concat", "concat_ws", "length",
        "char_length", "character_length", "octet_length", "substr", "substring", "strpos", "left", "right", "lpad", "rpad",
        "reverse", "repeat", "starts_with", "ends_with", "initcap", "translate", "to_hex", "md5", "sha256",
        "regexp_match", "regexp_replace", "regexp_like",
        "date_part", "date_trunc", "date_bin", "now", "to_timestamp", "to_timestamp_millis", "to_timestamp_micros",
        "to_timestamp_seconds", "to_timestamp_nanos", "from_unixtime", "to_char", "to_date", "make_date", "extract",
        "abs", "ceil", "floor", "round", "trunc", "power", "pow", "sqrt", "ln", "log", "log10", "log2", "exp", "mod",
        "coalesce", "nullif", "nvl", "arrow_cast", "arrow_typeof", "get_field", "named_struct", "struct",
        "array_element", "array_length", "make_array", "cardinality", "array_has",
    };

    private static readonly HashSet<string> NotFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        // keywords that may precede '(' without being a call
        "AS", "IN", "ON", "FROM", "JOIN", "EXISTS", "VALUES", "AND", "OR", "NOT", "WHERE", "SELECT", "OVER", "USING",
        "CAST", "TRY_CAST", "INTERVAL", "CASE", "WHEN", "THEN", "ELSE", "FILTER", "WITHIN", "ANY", "ALL", "BY", "HAVING",
        "DECIMAL", "NUMERIC", "VARCHAR", "CHAR", "TIMESTAMP", "TIME", "FLOAT", "INT", "INTEGER", "BIGINT", "SMALLINT",
        "TINYINT", "PARTITION", "ROW", "INTO", "TABLE", "VIEW", "WITH", "LATERAL", "UNNEST_KW",
    };

    private static readonly HashSet<string> ExprKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "CASE", "WHEN", "THEN", "ELSE", "END", "AND", "OR", "NOT", "NULL", "IS", "IN", "AS", "CAST", "TRY_CAST",
        "INTERVAL", "TRUE", "FALSE", "LIKE", "ILIKE", "BETWEEN", "DISTINCT", "SECOND", "SECONDS", "MINUTE", "MINUTES",
        "HOUR", "HOURS", "DAY", "DAYS", "MILLISECOND", "MICROSECOND", "TIMESTAMP", "BIGINT", "INT", "INTEGER", "TEXT",
        "DOUBLE", "PRECISION", "FLOAT", "REAL", "BOOLEAN", "VARCHAR", "DATE", "TIME", "SMALLINT", "JSON", "AT", "ZONE",
    };

    public sealed record Token(string Text, char Kind, int Line, int Column)
    {
        /// <summary>sqlparser's Display of a token (quoted forms as written).</summary>
        public override string ToString() => Kind switch
        {
            '\'' => $"'{Text}'",
            '"' => $"\"{Text}\"",
            _ => Text,
        };

        public bool Is(string s) => (Kind is 'w' or 'p') && string.Equals(Text, s, StringComparison.OrdinalIgnoreCase);
        /// <summary>sqlparser lower-cases nothing, but Arroyo/DataFusion normalize unquoted identifiers to lower case.</summary>
        public string Ident => Kind == '"' ? Text : Text.ToLowerInvariant();
    }

    private sealed class Reject(string message) : Exception(message);

    /// <summary>Null when the stand-in finds nothing wrong, else the error text 0.11 would put in <c>errors[0]</c>.</summary>
    public static string? Check(string sql)
    {
        try
        {
            var tokens = Tokenize(sql);
            var tables = new Dictionary<string, TableInfo>(StringComparer.Ordinal);
            var inserts = 0;
            foreach (var statement in Split(tokens))
            {
                if (statement.Count == 0) continue;
                if (statement[0].Is("CREATE") && statement.Count > 1 && statement[1].Is("TABLE"))
                {
                    var t = CreateTable(statement);
                    tables[t.Name] = t;
                }
                else if (statement[0].Is("CREATE") && statement.Count > 1 && statement[1].Is("VIEW"))
                {
                    var name = statement[2].Ident;
                    var asAt = statement.FindIndex(t => t.Is("AS"));
                    if (asAt < 0) throw Parser($"Expected AS, found: EOF", statement[^1]);
                    CheckQuery(statement.Skip(asAt + 1).ToList(), tables);
                    tables[name] = new TableInfo(name, IsView: true, IsSink: false);
                }
                else if (statement[0].Is("INSERT"))
                {
                    if (statement.Count < 3 || !statement[1].Is("INTO")) throw Parser($"Expected INTO, found: {statement[1]}", statement[1]);
                    var sink = statement[2].Ident;
                    if (!tables.TryGetValue(sink, out var st))
                        // arroyo-planner/src/lib.rs parse_and_get_arrow_program
                        throw new Reject($"Error during planning: Connection {sink} not found");
                    _ = st;
                    CheckQuery(statement.Skip(3).ToList(), tables);
                    inserts++;
                }
                else if (statement[0].Is("SELECT") || statement[0].Is("WITH"))
                {
                    CheckQuery(statement, tables);
                    inserts++; // a bare query gets the preview sink (lib.rs Insert::Anonymous)
                }
                else
                    throw new Reject($"stand-in: statement '{statement[0].Text} …' is not modelled (PiBench sends CREATE TABLE / CREATE VIEW / INSERT only)");
            }
            if (inserts == 0)
                // arroyo-planner/src/lib.rs parse_and_get_arrow_program
                throw new Reject("Error during planning: The provided SQL does not contain a query");
            return null;
        }
        catch (Reject r) { return r.Message; }
    }

    private sealed record TableInfo(string Name, bool IsView, bool IsSink);

    private static Reject Parser(string message, Token at) =>
        // sqlparser 0.44 parser_err!: "{msg} at Line: {l}, Column {c}" (Location Display); DataFusion 37 wraps a
        // ParserError as SQLError, displayed "SQL error: {ParserError:?}".
        new($"SQL error: ParserError(\"{Escape($"{message} at Line: {at.Line}, Column {at.Column}")}\")");

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    // ---- CREATE TABLE -------------------------------------------------------------------------------------------

    private enum Ty { Ok, Timestamp, Json }

    private static TableInfo CreateTable(List<Token> s)
    {
        var i = 2;
        if (s.Count > 4 && s[2].Is("IF")) i = 5; // IF NOT EXISTS
        var name = s[i++].Ident;
        var columns = new List<(string Name, string Type, Ty Kind, List<Token>? Generated)>();
        if (i < s.Count && s[i].Is("("))
        {
            i++;
            while (i < s.Count && !s[i].Is(")"))
            {
                var col = s[i++];
                if (i >= s.Count) throw Parser("Expected a data type name, found: EOF", col);
                var (type, kind, next) = DataType(s, i);
                i = next;
                List<Token>? generated = null;
                // column options until ',' or ')'
                while (i < s.Count && !s[i].Is(",") && !s[i].Is(")"))
                {
                    if (s[i].Is("GENERATED"))
                    {
                        // GENERATED ALWAYS AS ( expr ) STORED
                        var open = s.FindIndex(i, t => t.Is("("));
                        var close = Matching(s, open);
                        generated = s.GetRange(open + 1, close - open - 1);
                        i = close + 1;
                        if (i < s.Count && s[i].Is("STORED")) i++;
                    }
                    else if (s[i].Is("NOT") && i + 1 < s.Count && s[i + 1].Is("NULL")) i += 2;
                    else if (s[i].Is("NULL")) i++;
                    else
                        // sqlparser 0.44 parse_columns: anything else after the type (e.g. the '<' of STRUCT<…>)
                        throw Parser($"Expected ',' or ')' after column definition, found: {s[i]}", s[i]);
                }
                columns.Add((col.Ident, type, kind, generated));
                if (i < s.Count && s[i].Is(",")) i++;
            }
            i++;
        }

        var physical = columns.Where(c => c.Generated is null).Select(c => c.Name).ToList();
        foreach (var c in columns.Where(c => c.Generated is not null))
        {
            // tables.rs schema_from_columns: sql_to_expr(generation_expr, &physical_schema, …)
            var g = c.Generated!;
            for (var k = 0; k < g.Count; k++)
            {
                var t = g[k];
                if (t.Kind is not ('w' or '"')) continue;
                if (k + 1 < g.Count && g[k + 1].Is("(") && !NotFunctions.Contains(t.Text)) { CheckFunction(g, k); continue; }
                if (t.Kind == 'w' && ExprKeywords.Contains(t.Text)) continue;
                if (k > 0 && g[k - 1].Is(".")) continue; // field access
                if (!physical.Contains(t.Ident))
                    throw new Reject($"Schema error: No field named {t.Ident}. Valid fields are {string.Join(", ", physical)}.");
            }
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var w = s.FindIndex(i, t => t.Is("WITH"));
        if (w >= 0) ParseOptions(s, w + 1, options);
        options.Remove("connector", out var connector);
        if (connector is null or "memory")
        {
            if (columns.Any(c => c.Generated is not null))
                throw new Reject("Error during planning: Virtual fields are not supported in memory tables; instead write a query");
            if (options.Count > 0)
                throw new Reject(connector is null
                    ? "Error during planning: Memory tables do not allow with options; to create a connection table set the 'connector' option"
                    : "Error during planning: Memory tables do not allow with options");
            return new TableInfo(name, IsView: false, IsSink: false);
        }
        var sink = FromOptions(name, connector, columns.Select(c => (c.Name, c.Type, c.Kind, c.Generated is not null)).ToList(), options);
        return new TableInfo(name, IsView: false, IsSink: sink);
    }

    /// <summary>arroyo-planner/src/types.rs convert_data_type / convert_simple_data_type (v0.11.0) over what sqlparser
    /// 0.44 parses as a data type in the Postgres dialect. Returns the arrow type's Debug name for messages.</summary>
    private static (string Type, Ty Kind, int Next) DataType(List<Token> s, int i)
    {
        var t = s[i];
        if (t.Kind != 'w') throw Parser($"Expected a data type name, found: {t}", t);
        var word = t.Text.ToUpperInvariant();
        i++;
        int? Precision()
        {
            if (i < s.Count && s[i].Is("("))
            {
                var close = Matching(s, i);
                var p = int.TryParse(s[i + 1].Text, out var v) ? v : (int?)null;
                i = close + 1;
                return p;
            }
            return null;
        }
        string type;
        var kind = Ty.Ok;
        switch (word)
        {
            case "BOOLEAN": case "BOOL": type = "Boolean"; break;
            case "TINYINT": Precision(); type = Unsigned() ? "UInt8" : "Int8"; break;
            case "SMALLINT": case "INT2": Precision(); type = Unsigned() ? "UInt16" : "Int16"; break;
            case "INT": case "INTEGER": case "INT4": Precision(); type = Unsigned() ? "UInt32" : "Int32"; break;
            case "BIGINT": case "INT8": Precision(); type = Unsigned() ? "UInt64" : "Int64"; break;
            case "FLOAT": Precision(); type = "Float32"; break;
            case "REAL": case "FLOAT4": type = "Float32"; break;
            case "FLOAT8": type = "Float64"; break;
            case "DOUBLE": if (i < s.Count && s[i].Is("PRECISION")) i++; type = "Float64"; break;
            case "CHAR": case "VARCHAR": case "TEXT": case "STRING": Precision(); type = "Utf8"; break;
            case "JSON": type = "Utf8"; kind = Ty.Json; break;
            case "BYTEA": type = "Binary"; break;
            case "DATE": type = "Date32"; break;
            case "INTERVAL": type = "Interval(MonthDayNano)"; break;
            case "DATETIME": Precision(); type = "Timestamp(Nanosecond, None)"; kind = Ty.Timestamp; break;
            case "TIME": Precision(); type = "Time64(Nanosecond)"; break;
            case "NUMERIC": case "DECIMAL": Precision(); type = "Decimal128"; break;
            case "TIMESTAMP":
            {
                var p = Precision();
                type = p switch
                {
                    null or 9 => "Timestamp(Nanosecond, None)",
                    0 => "Timestamp(Second, None)",
                    3 => "Timestamp(Millisecond, None)",
                    6 => "Timestamp(Microsecond, None)",
                    _ => throw new Reject($"Error during planning: unsupported precision {p} -- supported precisions are 0 (seconds), 3 (milliseconds), 6 (microseconds), and 9 (nanoseconds)"),
                };
                if (i + 2 < s.Count && (s[i].Is("WITH") || s[i].Is("WITHOUT")) && s[i + 1].Is("TIME") && s[i + 2].Is("ZONE"))
                {
                    if (s[i].Is("WITH")) throw new Reject("Error during planning: Unsupported SQL type Timestamp(None, WithTimeZone)");
                    i += 3;
                }
                kind = Ty.Timestamp;
                break;
            }
            default:
                // sqlparser 0.44: STRUCT is a type keyword for BigQuery/Generic only; in the Postgres dialect any other
                // word is DataType::Custom(name, modifiers), which types.rs rejects with "Unsupported SQL type {:?}".
                // (A following '<' is a parse error first: see CreateTable.)
                var modifiers = new List<string>();
                if (i < s.Count && s[i].Is("("))
                {
                    var close = Matching(s, i);
                    modifiers.AddRange(s.GetRange(i + 1, close - i - 1).Where(x => !x.Is(",")).Select(x => x.Text));
                    i = close + 1;
                }
                if (i < s.Count && s[i].Is("<")) throw Parser($"Expected ',' or ')' after column definition, found: <", s[i]);
                throw new Reject("Error during planning: Unsupported SQL type Custom(ObjectName([Ident { value: \"" + t.Text +
                    "\", quote_style: None }]), [" + string.Join(", ", modifiers.Select(m => $"\"{m}\"")) + "])");
        }
        // arrays: TYPE[]
        if (i + 1 < s.Count && s[i].Is("[") && s[i + 1].Is("]")) { type = $"List({type})"; kind = Ty.Ok; i += 2; }
        return (type, kind, i);

        bool Unsigned()
        {
            if (i < s.Count && s[i].Is("UNSIGNED")) { i++; return true; }
            return false;
        }
    }

    private static void ParseOptions(List<Token> s, int i, Dictionary<string, string> options)
    {
        if (i >= s.Count || !s[i].Is("(")) throw Parser($"Expected (, found: {(i < s.Count ? s[i] : "EOF")}", s[Math.Min(i, s.Count - 1)]);
        var close = Matching(s, i);
        i++;
        while (i < close)
        {
            // sqlparser 0.44 parse_sql_option: identifier (or quoted string), '=', value
            var key = s[i++];
            if (key.Kind is not ('w' or '\'' or '"')) throw Parser($"Expected identifier, found: {key}", key);
            if (!s[i].Is("=")) throw Parser($"Expected =, found: {s[i]}", s[i]);
            i++;
            var value = s[i++];
            var k = key.Kind == 'w' ? key.Text.ToLowerInvariant() : key.Text;
            // tables.rs value_to_inner_string: only string values
            options[k] = value.Kind switch
            {
                '\'' or '"' => value.Text,
                'n' => throw new Reject($"Error during planning: Expected a string value, found Number(\"{value.Text}\", false)"),
                _ => throw new Reject($"Error during planning: Expected a value, found Identifier(Ident {{ value: \"{value.Text}\", quote_style: None }})"),
            };
            if (i < close && s[i].Is(",")) i++;
        }
    }

    /// <summary>arroyo-planner/src/tables.rs ConnectorTable::from_options (v0.11.0) for kafka and blackhole; other
    /// connectors are accepted with their options unchecked. Returns true for a sink.</summary>
    private static bool FromOptions(string table, string connector, List<(string Name, string Type, Ty Kind, bool Virtual)> fields,
        Dictionary<string, string> o)
    {
        Reject Plan(string m) => new($"Failed to create table {table}\ncaused by\nError during planning: {m}");
        if (!Connectors.Contains(connector)) throw Plan($"Unknown connector '{connector}'");

        // arroyo-rpc/src/formats.rs Format::from_opts
        string? format = null;
        if (o.Remove("format", out var f))
        {
            format = f;
            switch (f)
            {
                case "json":
                case "debezium_json":
                    if (o.Remove("json.confluent_schema_registry", out var csr) & o.Remove("json.include_schema", out var inc) && csr == "true" && inc == "true")
                        throw Plan("invalid format: 'can't include schema in message if using schema registry'");
                    o.Remove("json.unstructured");
                    if (o.Remove("json.timestamp_format", out var tf) && tf is not ("RFC3339" or "UnixMillis" or "unix_millis"))
                        throw Plan("invalid format: 'json.timestamp_format'");
                    break;
                case "avro":
                    o.Remove("avro.confluent_schema_registry"); o.Remove("avro.raw_datums"); o.Remove("avro.into_unstructured_json");
                    break;
                case "raw_string": case "raw_bytes": case "parquet": break;
                case "protobuf": throw Plan("invalid format: 'protobuf is not yet supported'");
                default: throw Plan($"invalid format: 'Unknown format '{f}''");
            }
        }
        // formats.rs Framing::from_opts, BadData::from_opts
        if (o.Remove("framing", out var fr))
        {
            if (fr != "newline") throw Plan($"invalid framing: 'Unknown framing method '{fr}''");
            o.Remove("framing.newline.max_length");
        }
        if (o.Remove("bad_data", out var bd) && bd is not ("drop" or "fail"))
            throw Plan($"Invalid bad_data: 'Unknown invalid data behavior '{bd}''");
        if (format == "debezium_json" && fields.Any(x => x.Virtual)) throw Plan("can't use virtual fields with debezium format");

        // tables.rs: physical fields must convert to a SourceField (connections.rs TryFrom<Field>)
        foreach (var (name, type, _, isVirtual) in fields)
        {
            if (isVirtual) continue;
            var ok = type is "Boolean" or "Int32" or "Int64" or "UInt32" or "UInt64" or "Float32" or "Float64" or "Binary" or "Utf8"
                or "Timestamp(Millisecond, None)" or "Timestamp(Microsecond, None)" or "Timestamp(Nanosecond, None)"
                || (type.StartsWith("List(", StringComparison.Ordinal) && !type.Contains("Int8") && !type.Contains("Int16"));
            if (!ok) throw Plan($"field '{name}' has a type '{type}' that cannot be used in a connection table");
        }

        var isSink = false;
        switch (connector)
        {
            case "kafka":
            {
                // kafka/mod.rs connection_from_options
                switch (Take("auth.type"))
                {
                    case null or "none": break;
                    case "sasl": foreach (var k in new[] { "auth.mechanism", "auth.protocol", "auth.username", "auth.password" }) Required(k); break;
                    case var other: throw Plan($"unknown auth type '{other}'");
                }
                if (Take("schema_registry.endpoint") is not null) { Take("schema_registry.api_key"); Take("schema_registry.api_secret"); }
                if (!o.Remove("connection_profile")) Required("bootstrap_servers");
                // kafka/mod.rs table_from_options
                var type = Required("type");
                switch (type)
                {
                    case "source":
                        switch (Take("source.offset"))
                        {
                            case null or "latest" or "earliest" or "group": break;
                            case var other: throw Plan($"invalid value for source.offset '{other}'");
                        }
                        switch (Take("source.read_mode"))
                        {
                            case null or "read_committed" or "read_uncommitted": break;
                            case var other: throw Plan($"invalid value for source.read_mode '{other}'");
                        }
                        Take("source.group_id"); Take("source.group_id_prefix");
                        break;
                    case "sink":
                        isSink = true;
                        switch (Take("sink.commit_mode"))
                        {
                            case null or "at_least_once" or "exactly_once": break;
                            case var other: throw Plan($"invalid value for commit_mode '{other}'");
                        }
                        break;
                    default: throw Plan("type must be one of 'source' or 'sink");
                }
                Required("topic");
                Take("client_configs"); Take("value.subject");
                // kafka/mod.rs from_config
                if (format is null) throw Plan("'format' must be set for Kafka connection");
                break;
            }
            case "blackhole":
                // blackhole/mod.rs from_options ignores (and leaves) every option: leftovers fail below.
                isSink = true;
                break;
            default:
                // not modelled: the stand-in accepts this connector's own options unchecked.
                foreach (var k in o.Keys.Where(k => k is not ("event_time_field" or "watermark_field" or "idle_micros")).ToList()) o.Remove(k);
                break;
        }

        // tables.rs: event_time_field / watermark_field / idle_micros, then leftovers
        var eventTime = Take("event_time_field");
        var watermark = Take("watermark_field");
        if (Take("idle_micros") is { } idle && !long.TryParse(idle, out _)) throw Plan("idle_micros must be set to a number");
        if (o.Count > 0)
            throw Plan("unknown options provided in WITH clause: " + string.Join(", ", o.Keys.Select(k => $"'{k}'")));
        foreach (var timeField in new[] { eventTime, watermark })
        {
            // tables.rs get_time_field (checked when the source is read; every PiBench source is read)
            if (timeField is not null && !fields.Any(x => x.Name == timeField && x.Kind == Ty.Timestamp))
                throw new Reject($"Error during planning: field {timeField} not found or not a timestamp");
        }
        return isSink;

        string? Take(string key) => o.Remove(key, out var v) ? v : null;
        string Required(string key) => Take(key) ?? throw Plan($"required option '{key}' not set"); // connectors/src/lib.rs pull_opt
    }

    // ---- queries ------------------------------------------------------------------------------------------------

    private static void CheckQuery(List<Token> q, Dictionary<string, TableInfo> tables)
    {
        var ctes = new HashSet<string>(StringComparer.Ordinal);
        for (var k = 0; k < q.Count; k++)
        {
            var t = q[k];
            if (t.Kind == 'w' && k + 1 < q.Count && q[k + 1].Is("(") && !NotFunctions.Contains(t.Text) && (k == 0 || !q[k - 1].Is(".")))
                CheckFunction(q, k);
            if (t.Is("WITH") || (t.Is(",") && ctes.Count > 0))
                if (k + 2 < q.Count && q[k + 2].Is("AS")) ctes.Add(q[k + 1].Ident);
            if ((t.Is("FROM") || t.Is("JOIN")) && k + 1 < q.Count && q[k + 1].Kind is 'w' or '"' && !q[k + 1].Is("("))
            {
                var name = q[k + 1].Ident;
                if (q[k + 1].Is("LATERAL") || q[k + 1].Is("UNNEST")) continue;
                // arroyo-planner/src/lib.rs ContextProvider::get_table_source
                if (!tables.ContainsKey(name) && !ctes.Contains(name)) throw new Reject($"Error during planning: Table {name} not found");
                if (tables.TryGetValue(name, out var ti) && ti.IsSink && !ti.IsView)
                    throw new Reject("Error during planning: cannot read from sink"); // tables.rs as_sql_source
            }
        }
    }

    /// <summary>A call <c>name(…)</c> at <paramref name="k"/>: known function, window functions' arity.</summary>
    private static void CheckFunction(List<Token> q, int k)
    {
        var name = q[k].Text.ToLowerInvariant();
        if (!Functions.Contains(name))
            // DataFusion 37 SqlToRel::sql_function_to_expr
            throw new Reject($"Error during planning: Invalid function '{name}'");
        var close = Matching(q, k + 1);
        var args = 0;
        var depth = 0;
        for (var j = k + 2; j < close; j++)
        {
            if (args == 0) args = 1;
            if (q[j].Is("(") || q[j].Is("[")) depth++;
            else if (q[j].Is(")") || q[j].Is("]")) depth--;
            else if (depth == 0 && q[j].Is(",")) args++;
        }
        var want = name switch { "hop" => 2, "tumble" or "session" => 1, "get_first_json_object" or "extract_json" or "extract_json_string" => 2, _ => -1 };
        if (want >= 0 && args != want)
            // create_udf signatures (lib.rs, json.rs): DataFusion's coercion error for a wrong argument count
            throw new Reject($"Error during planning: No function matches the given name and argument types '{name}' with {args} argument(s); it takes {want}.");
        if (name is "get_first_json_object" or "extract_json" or "extract_json_string")
        {
            // json.rs: the path must be a literal ("The path argument to … must be a literal")
            var last = q[close - 1];
            if (last.Kind != '\'') throw new Reject($"Execution error: The path argument to {name} must be a literal");
            if (!last.Text.StartsWith('$')) throw new Reject($"Execution error: Invalid json path '{last.Text}'");
        }
    }

    // ---- lexing -------------------------------------------------------------------------------------------------

    private static int Matching(List<Token> s, int open)
    {
        var depth = 0;
        for (var j = open; j < s.Count; j++)
        {
            if (s[j].Is("(")) depth++;
            else if (s[j].Is(")") && --depth == 0) return j;
        }
        throw Parser("Expected ), found: EOF", s[^1]);
    }

    private static IEnumerable<List<Token>> Split(List<Token> tokens)
    {
        var current = new List<Token>();
        foreach (var t in tokens)
        {
            if (t.Is(";")) { yield return current; current = []; }
            else current.Add(t);
        }
        yield return current;
    }

    /// <summary>sqlparser-style tokens with 1-based line/column: w = word, ' = string, " = quoted identifier,
    /// n = number, p = punctuation. Comments are dropped.</summary>
    public static List<Token> Tokenize(string sql)
    {
        var tokens = new List<Token>();
        int i = 0, line = 1, col = 1;
        void Advance(int n)
        {
            for (var k = 0; k < n && i < sql.Length; k++, i++)
            {
                if (sql[i] == '\n') { line++; col = 1; } else col++;
            }
        }
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c)) { Advance(1); continue; }
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n') Advance(1);
                continue;
            }
            if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                Advance((end < 0 ? sql.Length : end + 2) - i);
                continue;
            }
            int l = line, cc = col;
            if (c is '\'' or '"')
            {
                var sb = new StringBuilder();
                Advance(1);
                while (true)
                {
                    if (i >= sql.Length)
                        // sqlparser 0.44 tokenizer: TokenizerError "Unterminated string literal at Line: l, Column c"
                        throw new Reject($"SQL error: TokenizerError(\"Unterminated {(c == '\'' ? "string literal" : "delimited identifier")} at Line: {l}, Column {cc}\")");
                    if (sql[i] == c)
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == c) { sb.Append(c); Advance(2); continue; }
                        Advance(1);
                        break;
                    }
                    sb.Append(sql[i]);
                    Advance(1);
                }
                tokens.Add(new Token(sb.ToString(), c, l, cc));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] == '_' || sql[i] == '$')) Advance(1);
                tokens.Add(new Token(sql[start..i], 'w', l, cc));
                continue;
            }
            if (char.IsDigit(c))
            {
                var start = i;
                while (i < sql.Length && (char.IsDigit(sql[i]) || sql[i] == '.')) Advance(1);
                tokens.Add(new Token(sql[start..i], 'n', l, cc));
                continue;
            }
            var two = i + 1 < sql.Length ? sql.Substring(i, 2) : "";
            if (two is "<=" or ">=" or "<>" or "!=" or "::" or "||")
            {
                tokens.Add(new Token(two, 'p', l, cc));
                Advance(2);
                continue;
            }
            tokens.Add(new Token(c.ToString(), 'p', l, cc));
            Advance(1);
        }
        return tokens;
    }
}
