namespace PiBench.Core;

/// <summary>
/// The error categories PiBench reports. The names match System.Management.Automation.ErrorCategory
/// one to one, so the cmdlet layer maps them by name; Core stays free of PowerShell.
/// </summary>
public enum PiBenchErrorCategory
{
    NotSpecified = 0,
    OpenError,
    CloseError,
    DeviceError,
    DeadlockDetected,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    InvalidResult,
    InvalidType,
    MetadataError,
    NotImplemented,
    NotInstalled,
    ObjectNotFound,
    OperationStopped,
    OperationTimeout,
    SyntaxError,
    ParserError,
    PermissionDenied,
    ResourceBusy,
    ResourceExists,
    ResourceUnavailable,
    ReadError,
    WriteError,
    FromStdErr,
    SecurityError,
    ProtocolError,
    ConnectionError,
    AuthenticationError,
    LimitsExceeded,
    QuotaExceeded,
    NotEnabled,
}

/// <summary>
/// The one exception type PiBench.Core throws for conditions a user should read: a stable ErrorId,
/// a category, the offending value (TargetObject) and what to do about it (RecommendedAction).
/// The cmdlet base class turns it into an ErrorRecord in exactly one place.
/// </summary>
public class PiBenchException : Exception
{
    public PiBenchException(string errorId, PiBenchErrorCategory category, string message,
        object? targetObject = null, string? recommendedAction = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
        TargetObject = targetObject;
        RecommendedAction = recommendedAction;
    }

    /// <summary>Stable PascalCase identifier, e.g. <c>HostKeyMismatch</c>.</summary>
    public string ErrorId { get; }
    public PiBenchErrorCategory Category { get; }
    public object? TargetObject { get; }
    public string? RecommendedAction { get; }
}

/// <summary>Progress from long Core operations; the cmdlet turns it into Write-Progress on the pipeline thread.</summary>
public interface IProgressSink
{
    /// <param name="activity">Stable activity name, e.g. "Deploy Kafka".</param>
    /// <param name="status">What is happening now.</param>
    /// <param name="percent">0..100, or -1 when unknown.</param>
    /// <param name="child">Optional child key (node name, layer id) for nested progress.</param>
    void Report(string activity, string status, int percent = -1, string? child = null);
}

/// <summary>A progress sink that drops everything.</summary>
public sealed class NullProgress : IProgressSink
{
    public static readonly NullProgress Instance = new();
    public void Report(string activity, string status, int percent = -1, string? child = null) { }
}

/// <summary>Log lines from Core (verbose, warning) for the cmdlet to surface.</summary>
public interface ILogSink
{
    void Verbose(string message);
    void Warning(string message);
}

public sealed class NullLog : ILogSink
{
    public static readonly NullLog Instance = new();
    public void Verbose(string message) { }
    public void Warning(string message) { }
}
