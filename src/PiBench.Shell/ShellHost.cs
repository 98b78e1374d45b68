using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace PiBench.Shell;

/// <summary>A small console host: -WhatIf lines and host output to stdout, progress as one status line on
/// stderr (only on a terminal), confirmation prompts answered from stdin when it is interactive.</summary>
internal sealed class ShellHost : PSHost
{
    private readonly Guid _id = Guid.NewGuid();
    private readonly ShellUI _ui = new();
    public override string Name => "PiBench.Shell";
    public override Version Version => typeof(ShellHost).Assembly.GetName().Version ?? new Version(0, 1);
    public override Guid InstanceId => _id;
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
    public override void SetShouldExit(int exitCode) { }
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}

internal sealed class ShellUI : PSHostUserInterface
{
    private static readonly bool Interactive = !Console.IsInputRedirected;
    private static readonly bool ProgressVisible = !Console.IsErrorRedirected;
    private DateTime _lastProgress = DateTime.MinValue;

    public override PSHostRawUserInterface? RawUI => null;
    public override void Write(string value) => Console.Out.Write(value);
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Out.Write(value);
    public override void WriteLine(string value) => Console.Out.WriteLine(value);
    public override void WriteErrorLine(string value) => Console.Error.WriteLine(value);
    public override void WriteDebugLine(string message) => Console.Error.WriteLine("DEBUG: " + message);
    public override void WriteVerboseLine(string message) => Console.Error.WriteLine("VERBOSE: " + message);
    public override void WriteWarningLine(string message) => Console.Error.WriteLine("WARNING: " + message);

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        if (!ProgressVisible) return;
        if (record.RecordType == ProgressRecordType.Completed) { Console.Error.Write("\r\u001b[K"); return; }
        if ((DateTime.UtcNow - _lastProgress).TotalMilliseconds < 200) return;
        _lastProgress = DateTime.UtcNow;
        var pct = record.PercentComplete >= 0 ? $" {record.PercentComplete}%" : "";
        var line = $"{record.Activity}:{pct} {record.StatusDescription}";
        if (line.Length > 118) line = line[..118];
        Console.Error.Write("\r\u001b[K" + line);
    }

    public override string ReadLine() => Interactive ? Console.ReadLine() ?? "" : throw NoInput();
    public override SecureString ReadLineAsSecureString()
    {
        if (!Interactive) throw NoInput();
        var s = new SecureString();
        while (true)
        {
            var k = Console.ReadKey(intercept: true);
            if (k.Key == ConsoleKey.Enter) break;
            if (k.Key == ConsoleKey.Backspace) { if (s.Length > 0) s.RemoveAt(s.Length - 1); continue; }
            s.AppendChar(k.KeyChar);
        }
        Console.WriteLine();
        return s;
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        if (!Interactive) throw NoInput();
        Console.WriteLine(caption); Console.WriteLine(message);
        var result = new Dictionary<string, PSObject>();
        foreach (var d in descriptions)
        {
            Console.Write(d.Name + ": ");
            result[d.Name] = d.ParameterTypeFullName == typeof(SecureString).FullName
                ? PSObject.AsPSObject(ReadLineAsSecureString())
                : PSObject.AsPSObject(Console.ReadLine() ?? "");
        }
        return result;
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        PromptForCredential(caption, message, userName, targetName, PSCredentialTypes.Default, PSCredentialUIOptions.Default);

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
    {
        if (!Interactive) throw NoInput();
        Console.WriteLine(message);
        if (string.IsNullOrEmpty(userName)) { Console.Write("User: "); userName = Console.ReadLine() ?? ""; }
        Console.Write($"Password for {userName}: ");
        return new PSCredential(userName, ReadLineAsSecureString());
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        if (!Interactive) throw NoInput();
        Console.WriteLine(caption); Console.WriteLine(message);
        for (var i = 0; i < choices.Count; i++)
            Console.WriteLine($"  [{i}] {choices[i].Label.Replace("&", "")}  {choices[i].HelpMessage}");
        Console.Write($"Choice (default {defaultChoice}): ");
        var line = Console.ReadLine();
        if (string.IsNullOrWhiteSpace(line)) return defaultChoice;
        if (int.TryParse(line, out var n) && n >= 0 && n < choices.Count) return n;
        for (var i = 0; i < choices.Count; i++)
        {
            var label = choices[i].Label;
            var amp = label.IndexOf('&');
            if (amp >= 0 && amp + 1 < label.Length && char.ToUpperInvariant(label[amp + 1]) == char.ToUpperInvariant(line.Trim()[0])) return i;
        }
        return defaultChoice;
    }

    private static HostException NoInput() =>
        new("This command needs an answer, but standard input is not interactive. Pass -Confirm:$false or -Force, or give the value as a parameter.");
}
