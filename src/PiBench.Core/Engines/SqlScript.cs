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
    public static IReadOnlyList<string> Split(string script)
    {
        var result = new List<string>();
        var sb = new StringBuilder();
        var i = 0;
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
                i = end < 0 ? script.Length : end + 2;
                sb.Append(' ');
                continue;
            }
            if (c is '\'' or '"' or '`')
            {
                sb.Append(c);
                i++;
                while (i < script.Length)
                {
                    sb.Append(script[i]);
                    if (script[i] == c)
                    {
                        if (i + 1 < script.Length && script[i + 1] == c) { sb.Append(c); i += 2; continue; } // doubled quote
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
            sb.Append(c);
            i++;
        }
        Flush();
        return result;

        void Flush()
        {
            var s = sb.ToString().Trim();
            if (s.Length > 0) result.Add(s);
            sb.Clear();
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
