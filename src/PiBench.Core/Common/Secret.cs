using System.Text.Json;
using System.Text.Json.Serialization;

namespace PiBench.Core;

/// <summary>
/// A secret value (e.g. the MinIO secret key) that does not print: <see cref="ToString"/>, string interpolation and
/// JSON give <see cref="Redacted"/>, and it has no public property, so PowerShell views and ConvertTo-Json show
/// nothing of it. Only <see cref="Reveal"/> gives the value, at the point where it is sent to its service.
/// </summary>
[JsonConverter(typeof(SecretJsonConverter))]
public sealed class Secret : IEquatable<Secret>
{
    /// <summary>What every view shows instead of the value.</summary>
    public const string Redacted = "********";

    private readonly string _value;

    public Secret(string value) => _value = value ?? throw new ArgumentNullException(nameof(value));

    /// <summary>The value itself; call it only where the secret is handed to what needs it.</summary>
    public string Reveal() => _value;

    /// <summary>True when the value equals <paramref name="candidate"/> (e.g. the well-known default).</summary>
    public bool Is(string candidate) => string.Equals(_value, candidate, StringComparison.Ordinal);

    public override string ToString() => Redacted;
    public bool Equals(Secret? other) => other is not null && other._value == _value;
    public override bool Equals(object? obj) => obj is Secret s && Equals(s);
    public override int GetHashCode() => _value.GetHashCode(StringComparison.Ordinal);

    private sealed class SecretJsonConverter : JsonConverter<Secret>
    {
        public override Secret Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new JsonException("secrets are never read from JSON");
        public override void Write(Utf8JsonWriter writer, Secret value, JsonSerializerOptions options) => writer.WriteStringValue(Redacted);
    }
}
