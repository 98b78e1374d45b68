using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace PiBench.Shell;

/// <summary>
/// Writes out/PiBench/en-US/PiBench.dll-Help.xml (MAML) for every exported cmdlet, from the cmdlet metadata
/// (parameter sets, types, pipeline input, aliases, output types) and the C# XML documentation in PiBench.xml:
/// the class's &lt;summary&gt; is the synopsis, &lt;remarks&gt; the description, each &lt;example&gt;
/// (&lt;code&gt; + &lt;para&gt;) an example; a parameter's &lt;summary&gt; its description.
/// </summary>
internal static class HelpGenerator
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
    {
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable",
        "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm",
    };

    public static int Run(string moduleDir)
    {
        moduleDir = Path.GetFullPath(moduleDir);
        var psd1 = Path.Combine(moduleDir, "PiBench.psd1");
        var xmlDoc = Path.Combine(moduleDir, "PiBench.xml");
        var docs = File.Exists(xmlDoc) ? XDocument.Load(xmlDoc) : new XDocument(new XElement("doc"));
        var members = docs.Descendants("member")
            .Where(m => m.Attribute("name") is not null)
            .GroupBy(m => m.Attribute("name")!.Value)
            .ToDictionary(g => g.Key, g => g.First());

        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(new[] { psd1 });
        iss.ThrowOnRunspaceOpenError = true;
        using var ps = PowerShell.Create(iss);
        var cmdlets = ps.AddCommand("Get-Command").AddParameter("Module", "PiBench").AddParameter("CommandType", "Cmdlet")
            .Invoke<CmdletInfo>().OrderBy(c => c.Noun).ThenBy(c => c.Verb).ToList();

        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev));
        var missing = new List<string>();
        foreach (var c in cmdlets)
        {
            members.TryGetValue("T:" + c.ImplementingType.FullName, out var typeDoc);
            if (typeDoc?.Element("example") is null) missing.Add(c.Name);
            root.Add(CommandElement(c, typeDoc, members));
        }
        var outDir = Path.Combine(moduleDir, "en-US");
        Directory.CreateDirectory(outDir);
        var target = Path.Combine(outDir, "PiBench.dll-Help.xml");
        var text = new XDocument(new XDeclaration("1.0", "utf-8", null), root).ToString();
        if (!File.Exists(target) || File.ReadAllText(target) != text) File.WriteAllText(target, text);
        Console.WriteLine($"PiBench help: {cmdlets.Count} cmdlets -> {target}");
        foreach (var m in missing) Console.WriteLine($"PiBench help: warning: {m} has no <example> in its XML documentation");
        return 0;
    }

    private static XElement CommandElement(CmdletInfo c, XElement? typeDoc, Dictionary<string, XElement> members)
    {
        var synopsis = Text(typeDoc?.Element("summary"));
        var description = Paras(typeDoc?.Element("remarks") ?? typeDoc?.Element("summary"));
        var parameters = c.Parameters.Values.Where(p => !Common.Contains(p.Name)).ToList();

        string ParamDoc(ParameterMetadata p)
        {
            var prop = c.ImplementingType.GetProperty(p.Name);
            var owner = prop?.DeclaringType ?? c.ImplementingType;
            return members.TryGetValue($"P:{owner.FullName}.{p.Name}", out var m) ? Text(m.Element("summary")) : "";
        }

        XElement ParamElement(ParameterMetadata p, ParameterSetMetadata? set)
        {
            var sets = p.ParameterSets;
            var meta = set ?? sets.Values.FirstOrDefault();
            var pipeline = new List<string>();
            if (meta?.ValueFromPipeline == true) pipeline.Add("ByValue");
            if (meta?.ValueFromPipelineByPropertyName == true) pipeline.Add("ByPropertyName");
            var isSwitch = p.SwitchParameter;
            return new XElement(Command + "parameter",
                new XAttribute("required", (meta?.IsMandatory ?? false).ToString().ToLowerInvariant()),
                new XAttribute("variableLength", p.ParameterType.IsArray.ToString().ToLowerInvariant()),
                new XAttribute("globbing", "false"),
                new XAttribute("pipelineInput", pipeline.Count == 0 ? "False" : $"True ({string.Join(", ", pipeline)})"),
                new XAttribute("position", meta is null || meta.Position < 0 ? "named" : meta.Position.ToString()),
                new XAttribute("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases)),
                new XElement(Maml + "name", p.Name),
                new XElement(Maml + "description", new XElement(Maml + "para", ParamDoc(p))),
                isSwitch ? null : new XElement(Command + "parameterValue", new XAttribute("required", "true"),
                    new XAttribute("variableLength", "false"), TypeName(p.ParameterType)),
                new XElement(Dev + "type", new XElement(Maml + "name", TypeName(p.ParameterType)), new XElement(Maml + "uri")),
                new XElement(Dev + "defaultValue", isSwitch ? "False" : "None"));
        }

        var syntax = new XElement(Command + "syntax");
        foreach (var set in c.ParameterSets)
        {
            var item = new XElement(Command + "syntaxItem", new XElement(Maml + "name", c.Name));
            foreach (var sp in set.Parameters.Where(sp => !Common.Contains(sp.Name)))
            {
                if (!c.Parameters.TryGetValue(sp.Name, out var p)) continue;
                p.ParameterSets.TryGetValue(set.Name, out var meta);
                meta ??= p.ParameterSets.TryGetValue("__AllParameterSets", out var all) ? all : null;
                item.Add(ParamElement(p, meta));
            }
            syntax.Add(item);
        }

        var inputs = parameters
            .Where(p => p.ParameterSets.Values.Any(s => s.ValueFromPipeline || s.ValueFromPipelineByPropertyName))
            .Select(p => TypeName(p.ParameterType)).Distinct().ToList();
        var outputs = c.OutputType.Select(o => o.Name).Distinct().ToList();

        var examples = new XElement(Command + "examples");
        var n = 0;
        foreach (var ex in typeDoc?.Elements("example") ?? Enumerable.Empty<XElement>())
        {
            n++;
            var code = Dedent(ex.Element("code")?.Value ?? "");
            var remarks = ex.Elements().Where(e => e.Name != "code").ToList();
            examples.Add(new XElement(Command + "example",
                new XElement(Maml + "title", $"-------------------------- Example {n} --------------------------"),
                new XElement(Dev + "code", code),
                new XElement(Dev + "remarks", remarks.Count == 0 ? new XElement(Maml + "para", "") : remarks.Select(r => new XElement(Maml + "para", Text(r))))));
        }

        return new XElement(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", c.Name),
                new XElement(Command + "verb", c.Verb),
                new XElement(Command + "noun", c.Noun),
                new XElement(Maml + "description", new XElement(Maml + "para", synopsis))),
            new XElement(Maml + "description", description),
            syntax,
            new XElement(Command + "parameters", parameters.Select(p => ParamElement(p, null))),
            new XElement(Command + "inputTypes", (inputs.Count == 0 ? new List<string> { "None" } : inputs).Select(t =>
                new XElement(Command + "inputType", new XElement(Dev + "type", new XElement(Maml + "name", t)),
                    new XElement(Maml + "description", new XElement(Maml + "para", ""))))),
            new XElement(Command + "returnValues", (outputs.Count == 0 ? new List<string> { "None" } : outputs).Select(t =>
                new XElement(Command + "returnValue", new XElement(Dev + "type", new XElement(Maml + "name", t)),
                    new XElement(Maml + "description", new XElement(Maml + "para", ""))))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", new XElement(Maml + "para",
                "PiBench is documented in README.md of its repository. Results, errors and progress follow the module conventions described there."))),
            examples,
            new XElement(Command + "relatedLinks"));
    }

    private static string TypeName(Type t) =>
        t == typeof(SwitchParameter) ? "SwitchParameter" : t.IsArray ? TypeName(t.GetElementType()!) + "[]" : t.Name;

    private static IEnumerable<XElement> Paras(XElement? e)
    {
        if (e is null) return new[] { new XElement(Maml + "para", "") };
        var paras = e.Elements("para").ToList();
        if (paras.Count == 0) return new[] { new XElement(Maml + "para", Text(e)) };
        return paras.Select(p => new XElement(Maml + "para", Text(p)));
    }

    /// <summary>Flattens doc XML to text: see/paramref/c become their names or text; whitespace folded.</summary>
    private static string Text(XElement? e)
    {
        if (e is null) return "";
        var parts = e.Nodes().Select(n => n switch
        {
            XText t => t.Value,
            XElement x when x.Name == "see" || x.Name == "seealso" => x.Attribute("cref")?.Value.Split('.').Last() ?? x.Attribute("langword")?.Value ?? x.Value,
            XElement x when x.Name == "paramref" || x.Name == "typeparamref" => "-" + x.Attribute("name")?.Value,
            XElement x when x.Name == "para" => "\n" + Text(x) + "\n",
            XElement x => Text(x),
            _ => "",
        });
        return Regex.Replace(string.Concat(parts), @"[ \t\r\n]+", " ").Trim();
    }

    private static string Dedent(string code)
    {
        var lines = code.Replace("\r", "").Split('\n').ToList();
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[0])) lines.RemoveAt(0);
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1])) lines.RemoveAt(lines.Count - 1);
        var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }
}
