using System.Text;
using System.Text.RegularExpressions;

namespace PiBench.Core.Engines;

/// <summary>Splits a SQL script into statements (the Flink SQL Gateway takes one per call) and renders parameters.</summary>
public static partial class SqlScript
{
    /// <summary>
    /// Splits on <c>;</c> outside quotes ('…', "…", `…`) and comments (-- …, /* … */). Comments are dropped,
    /// statements trimmed, empty ones skipped; no trailing <c>;</c>.
    /// </summary>
    public static IReadOnlyList<string> Split(string script) => SplitWithPositions(script).Select(s => s.Text).ToList();

    /// <summary>
    /// <see cref="Split"/>, keeping where each character of each statement stands in the script, so an engine's
    /// position inside one statement (line/column, 1-based) can be reported as a position in the whole script.
    /// </summary>
    public static IReadOnlyList<SqlStatement> SplitWithPositions(string script)
    {
        var result = new List<SqlStatement>();
        var sb = new StringBuilder();
        var at = new List<int>(); // script offset of each character in sb
        var i = 0;
        void Add(char ch, int offset)
        {
            sb.Append(ch);
            at.Add(offset);
        }
        while (i < script.Length)
        {
            var c = script[i];
            if (c == '-' && i + 1 < script.Length && script[i + 1] == '-')
            {
                while (i < script.Length && script[i] != '\n') i++;
                continue;
            }
            if (c == '/' && i + 1 < script.Length && script[i + 1] == '*')
            {
                var end = script.IndexOf("*/", i + 2, StringComparison.Ordinal);
                Add(' ', i);
                i = end < 0 ? script.Length : end + 2;
                continue;
            }
            if (c is '\'' or '"' or '`')
            {
                Add(c, i);
                i++;
                while (i < script.Length)
                {
                    Add(script[i], i);
                    if (script[i] == c)
                    {
                        if (i + 1 < script.Length && script[i + 1] == c) { Add(c, i + 1); i += 2; continue; } // doubled quote
                        i++;
                        break;
                    }
                    i++;
                }
                continue;
            }
            if (c == ';')
            {
                Flush();
                i++;
                continue;
            }
            Add(c, i);
            i++;
        }
        Flush();
        return result;

        void Flush()
        {
            var text = sb.ToString();
            var start = 0;
            while (start < text.Length && char.IsWhiteSpace(text[start])) start++;
            var end = text.Length;
            while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
            if (end > start) result.Add(new SqlStatement(text[start..end], script, at.GetRange(start, end - start).ToArray()));
            sb.Clear();
            at.Clear();
        }
    }

    /// <summary>True for <c>INSERT INTO …</c> / <c>EXECUTE …</c> / <c>STATEMENT SET</c> (statements that start a job).</summary>
    public static bool IsJobStatement(string statement) =>
        JobStatementRegex().IsMatch(statement);

    /// <summary>Replaces <c>${NAME}</c> placeholders; throws QueryParameterMissing for any left unfilled.</summary>
    public static string Render(string text, IReadOnlyDictionary<string, string> parameters, string what)
    {
        var missing = new List<string>();
        var rendered = PlaceholderRegex().Replace(text, m =>
        {
            if (parameters.TryGetValue(m.Groups[1].Value, out var v)) return v;
            missing.Add(m.Groups[1].Value);
            return m.Value;
        });
        if (missing.Count > 0)
            throw new PiBenchException("QueryParameterMissing", PiBenchErrorCategory.InvalidArgument,
                $"{what} needs parameter(s) {string.Join(", ", missing.Distinct())}.", what,
                "Pass them with -Parameter @{ NAME = 'value' }.");
        return rendered;
    }

    /// <summary>The placeholder names a text uses.</summary>
    public static IReadOnlyList<string> Placeholders(string text) =>
        PlaceholderRegex().Matches(text).Select(m => m.Groups[1].Value).Distinct().ToList();

    /// <summary>Escapes a value for a single-quoted SQL string literal.</summary>
    public static string Literal(string value) => value.Replace("'", "''");

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)\}")]
    private static partial Regex PlaceholderRegex();

    [GeneratedRegex(@"^\s*(INSERT\s+(INTO|OVERWRITE)|EXECUTE\b|BEGIN\s+STATEMENT\s+SET)", RegexOptions.IgnoreCase)]
    private static partial Regex JobStatementRegex();
}

/// <summary>One statement of a script and where its characters stand in the script.</summary>
public sealed class SqlStatement
{
    private readonly string _script;
    private readonly int[] _offsets;

    internal SqlStatement(string text, string script, int[] offsets)
    {
        Text = text;
        _script = script;
        _offsets = offsets;
        (Line, Column) = PositionOf(offsets.Length > 0 ? offsets[0] : 0);
    }

    /// <summary>The statement as sent to an engine (comments dropped, trimmed, no trailing <c>;</c>).</summary>
    public string Text { get; }
    /// <summary>1-based line of the statement's first character in the script.</summary>
    public int Line { get; }
    /// <summary>1-based column of the statement's first character in the script.</summary>
    public int Column { get; }

    /// <summary>
    /// The script position of 1-based (<paramref name="line"/>, <paramref name="column"/>) in <see cref="Text"/>, as an
    /// engine reports it for this statement; clamped to the statement.
    /// </summary>
    public (int Line, int Column) ScriptPosition(int line, int column)
    {
        var index = 0;
        for (var l = 1; l < line && index < Text.Length; index++)
            if (Text[index] == '\n') l++;
        index = Math.Clamp(index + Math.Max(column, 1) - 1, 0, Math.Max(Text.Length - 1, 0));
        return _offsets.Length == 0 ? (Line, Column) : PositionOf(_offsets[index]);
    }

    private (int Line, int Column) PositionOf(int offset)
    {
        int line = 1, column = 1;
        for (var k = 0; k < offset && k < _script.Length; k++)
        {
            if (_script[k] == '\n') { line++; column = 1; }
            else column++;
        }
        return (line, column);
    }
}
