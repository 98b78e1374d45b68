using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Xml.Linq;

namespace PiBench.Shell;

/// <summary>Table columns per type name, read from the module's format/*.ps1xml TableControl views.</summary>
internal sealed class FormatViews
{
    private readonly Dictionary<string, List<(string Header, string Property)>> _tables = new(StringComparer.OrdinalIgnoreCase);

    public static FormatViews Load(string moduleDir)
    {
        var views = new FormatViews();
        var dir = Path.Combine(moduleDir, "format");
        if (!Directory.Exists(dir)) return views;
        foreach (var file in Directory.EnumerateFiles(dir, "*.ps1xml"))
        {
            XDocument doc;
            try { doc = XDocument.Load(file); } catch { continue; }
            foreach (var view in doc.Descendants("View"))
            {
                var table = view.Element("TableControl");
                if (table is null) continue;
                var types = view.Element("ViewSelectedBy")?.Elements("TypeName").Select(t => t.Value.Trim()).ToList() ?? new();
                var headers = table.Element("TableHeaders")?.Elements("TableColumnHeader").Select(h => h.Element("Label")?.Value).ToList() ?? new();
                var items = table.Descendants("TableColumnItem").ToList();
                var cols = new List<(string, string)>();
                for (var i = 0; i < items.Count; i++)
                {
                    var prop = items[i].Element("PropertyName")?.Value;
                    if (prop is null) continue; // script-block columns are not evaluated here
                    var header = i < headers.Count && !string.IsNullOrEmpty(headers[i]) ? headers[i]! : prop;
                    cols.Add((header, prop));
                }
                foreach (var t in types)
                    if (!views._tables.ContainsKey(t) && cols.Count > 0) views._tables[t] = cols;
            }
        }
        return views;
    }

    public List<(string Header, string Property)>? TableFor(PSObject o)
    {
        foreach (var t in o.TypeNames)
            if (_tables.TryGetValue(t, out var cols)) return cols;
        return null;
    }
}

/// <summary>Prints pipeline output: consecutive objects with a table view as one table, others as lists.</summary>
internal sealed class ObjectPrinter(FormatViews views, TextWriter writer)
{
    private readonly object _gate = new();
    private List<(string Header, string Property)>? _cols;
    private readonly List<string[]> _rows = new();

    public void Write(PSObject obj)
    {
        lock (_gate)
        {
            var baseObj = obj.BaseObject;
            if (baseObj is string or ValueType || baseObj is null)
            {
                FlushLocked();
                writer.WriteLine(Format(baseObj));
                return;
            }
            var cols = views.TableFor(obj);
            if (cols is not null)
            {
                if (!ReferenceEquals(cols, _cols)) FlushLocked();
                _cols = cols;
                _rows.Add(cols.Select(c => Format(obj.Properties[c.Property]?.Value)).ToArray());
                if (_rows.Count >= 50) FlushLocked();
                return;
            }
            FlushLocked();
            WriteList(obj);
        }
    }

    public void Flush() { lock (_gate) FlushLocked(); }

    private void FlushLocked()
    {
        if (_cols is null || _rows.Count == 0) { _cols = null; _rows.Clear(); return; }
        var widths = _cols.Select((c, i) => Math.Min(48, Math.Max(c.Header.Length, _rows.Max(r => r[i].Length)))).ToArray();
        writer.WriteLine();
        writer.WriteLine(string.Join(' ', _cols.Select((c, i) => c.Header.PadRight(widths[i]))).TrimEnd());
        writer.WriteLine(string.Join(' ', widths.Select(w => new string('-', w))));
        foreach (var r in _rows)
            writer.WriteLine(string.Join(' ', r.Select((v, i) => (v.Length > widths[i] ? v[..(widths[i] - 1)] + "…" : v).PadRight(widths[i]))).TrimEnd());
        writer.WriteLine();
        writer.Flush();
        _cols = null;
        _rows.Clear();
    }

    private void WriteList(PSObject obj)
    {
        var props = obj.Properties.Where(p => p.IsGettable).ToList();
        if (props.Count == 0) { writer.WriteLine(Format(obj.BaseObject)); return; }
        var width = props.Max(p => p.Name.Length);
        writer.WriteLine();
        foreach (var p in props)
        {
            object? v;
            try { v = p.Value; } catch (Exception ex) { v = $"<{ex.GetType().Name}>"; }
            writer.WriteLine($"{p.Name.PadRight(width)} : {Format(v)}");
        }
        writer.WriteLine();
        writer.Flush();
    }

    private static string Format(object? v) => v switch
    {
        null => "",
        PSObject pso => Format(pso.BaseObject),
        string s => s,
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        float f => f.ToString("0.###", CultureInfo.InvariantCulture),
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateTimeOffset dto => dto.ToString("yyyy-MM-dd HH:mm:ssK", CultureInfo.InvariantCulture),
        IFormattable fm => fm.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e => "{" + string.Join(", ", e.Cast<object?>().Take(8).Select(Format)) + "}",
        _ => v.ToString() ?? "",
    };
}
