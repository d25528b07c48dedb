using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SignalFunctions.Ingest;

/// <summary>
/// Reads the fields of one JSON object, recording a precise message for each problem under the
/// field's path. Shared by every ingest payload so that all endpoints speak the same errors.
/// </summary>
internal sealed partial class FieldReader(JsonElement element, string prefix, int index, ValidationErrors errors)
{
    public FieldReader(JsonElement element, string path, ValidationErrors errors)
        : this(element, path, -1, errors)
    {
    }

    public bool Valid { get; private set; } = true;

    // events[3] is only spelt out when there is an error to report: a valid batch allocates no paths.
    private string Path => index < 0 ? prefix : $"{prefix}[{index}]";

    public void Error(string? field, string message)
    {
        Valid = false;
        var path = Path;
        var key = field is null ? (path.Length == 0 ? "body" : path) : (path.Length == 0 ? field : $"{path}.{field}");
        errors.Add(key, message);
    }

    public void RejectUnknown(IReadOnlySet<string> known)
    {
        var names = KnownNames.GetValue(known, static set => set.Select(name => Encoding.UTF8.GetBytes(name)).ToArray());
        foreach (var property in element.EnumerateObject())
        {
            if (!IsKnown(property, names))
            {
                // A misspelt field must not be dropped silently.
                Error(Printable(property.Name), "is not a known field");
            }
        }
    }

    // The known names in UTF-8, so checking a property name needs no string of it.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlySet<string>, byte[][]> KnownNames = new();

    private static bool IsKnown(JsonProperty property, byte[][] names)
    {
        foreach (var name in names)
        {
            if (property.NameEquals(name))
            {
                return true;
            }
        }
        return false;
    }

    private bool TryGet(string field, out JsonElement value)
    {
        if (element.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        value = default;
        return false;
    }

    public Guid? Uuid(string field, bool required)
    {
        if (!TryGet(field, out var value))
        {
            if (required)
            {
                Error(field, "is required (a UUID)");
            }
            return null;
        }
        if (value.ValueKind == JsonValueKind.String && Guid.TryParseExact(value.GetString(), "D", out var guid))
        {
            return guid;
        }
        Error(field, "must be a UUID such as 0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20");
        return null;
    }

    public string? OneOf(string field, IReadOnlySet<string> allowed)
    {
        var text = String(field, required: true);
        if (text is null)
        {
            return null;
        }
        if (!allowed.Contains(text))
        {
            Error(field, $"must be one of {string.Join(", ", allowed)}");
            return null;
        }
        return text;
    }

    public string? Identifier(string field, bool required)
    {
        var text = String(field, required);
        if (text is not null && !IdentifierPattern().IsMatch(text))
        {
            Error(field, "must be 1 to 32 lowercase letters, digits or underscores, starting with a letter");
            return null;
        }
        return text;
    }

    public string? Text(string field, int maxLength, bool required = false)
    {
        var text = String(field, required);
        if (text is null)
        {
            return null;
        }
        if (text.Length == 0 || text.Length > maxLength)
        {
            Error(field, $"must be 1 to {maxLength} characters");
            return null;
        }
        return text;
    }

    public bool? Boolean(string field, bool required)
    {
        if (!TryGet(field, out var value))
        {
            if (required)
            {
                Error(field, "is required (true or false)");
            }
            return null;
        }
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }
        Error(field, "must be true or false");
        return null;
    }

    public int? Integer(string field, int min, int max, bool required)
    {
        if (!TryGet(field, out var value))
        {
            if (required)
            {
                Error(field, $"is required (a whole number from {min} to {max})");
            }
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max)
        {
            return number;
        }
        Error(field, $"must be a whole number from {min} to {max}");
        return null;
    }

    public DateTimeOffset? Timestamp(string field, DateTimeOffset earliest, DateTimeOffset latest)
    {
        if (!TryGet(field, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out var timestamp))
        {
            Error(field, "must be an ISO 8601 date-time with a time zone, such as 2026-11-22T10:15:00Z");
            return null;
        }
        if (timestamp < earliest || timestamp > latest)
        {
            Error(field, $"must be between {earliest:O} and {latest:O} (server time)");
            return null;
        }
        return timestamp;
    }

    /// <summary>
    /// A JSON object, re-serialised so what is stored is exactly what was checked. Also returns a
    /// signal_id found inside it (the legacy payload carried the journey there).
    /// </summary>
    public (string? Json, Guid? SignalId) Metadata(string field, int maxDepth)
    {
        if (!TryGet(field, out var value))
        {
            return ("{}", null);
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            Error(field, "must be a JSON object");
            return (null, null);
        }
        var problem = CheckTree(value, 1, maxDepth);
        if (problem is not null)
        {
            Error(field, problem);
            return (null, null);
        }
        var (buffer, writer) = MetadataWriter();
        value.WriteTo(writer);
        writer.Flush();
        Guid? signalId = value.TryGetProperty("signal_id", out var sid)
                         && sid.ValueKind == JsonValueKind.String
                         && Guid.TryParseExact(sid.GetString(), "D", out var parsed)
            ? parsed
            : null;
        return (Encoding.UTF8.GetString(buffer.WrittenSpan), signalId);
    }

    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? _metadataWriter;

    /// <summary>One buffer and writer per thread, emptied and reused for every event's metadata.</summary>
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer) MetadataWriter()
    {
        if (_metadataWriter is { } cached)
        {
            cached.Buffer.ResetWrittenCount();
            cached.Writer.Reset(cached.Buffer);
            return cached;
        }
        var buffer = new ArrayBufferWriter<byte>(256);
        var created = (buffer, new Utf8JsonWriter(buffer));
        _metadataWriter = created;
        return created;
    }

    private string? String(string field, bool required)
    {
        if (!TryGet(field, out var value))
        {
            if (required)
            {
                Error(field, "is required");
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            Error(field, $"must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }
        var text = SafeString(value);
        if (text is null)
        {
            Error(field, "contains a NUL character or invalid Unicode");
        }
        return text;
    }

    /// <summary>PostgreSQL text and jsonb refuse NUL and lone surrogates: catch them here, as a 400.</summary>
    private static string? SafeString(JsonElement value)
    {
        try
        {
            var text = value.GetString()!;
            return text.Contains('\0') || !IsWellFormed(text) ? null : text;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }
                i++;
            }
            else if (char.IsLowSurrogate(text[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static string? CheckTree(JsonElement value, int depth, int maxDepth)
    {
        if (depth > maxDepth)
        {
            return $"is nested deeper than {maxDepth} levels";
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    if (property.Name.Contains('\0') || !IsWellFormed(property.Name))
                    {
                        return "has a key with a NUL character or invalid Unicode";
                    }
                    if (CheckTree(property.Value, depth + 1, maxDepth) is { } problem)
                    {
                        return problem;
                    }
                }
                return null;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    if (CheckTree(item, depth + 1, maxDepth) is { } problem)
                    {
                        return problem;
                    }
                }
                return null;
            case JsonValueKind.String:
                return SafeString(value) is null ? "contains a NUL character or invalid Unicode" : null;
            default:
                return null;
        }
    }

    private static string Printable(string name) =>
        name.Length > 64 || name.Any(char.IsControl) ? "(unnamed field)" : name;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$")]
    private static partial Regex IdentifierPattern();
}
