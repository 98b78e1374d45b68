namespace PiBench.Core.Remote;

/// <summary>Messages that keep their cause: "An error occurred while sending the request" alone says nothing.</summary>
public static class ExceptionText
{
    /// <summary>The message followed by each distinct inner message (": " between them), at most four levels.</summary>
    public static string WithCauses(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null && parts.Count < 4; e = e.InnerException)
        {
            var m = e.Message.Trim().TrimEnd('.');
            if (m.Length > 0 && !parts.Any(p => p.Contains(m, StringComparison.Ordinal))) parts.Add(m);
        }
        return string.Join(": ", parts) + ".";
    }
}
