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
                Error(Printable(NameOf(property)), "is not a known field");
            }
        }
    }

    // The known names in UTF-8, so checking a property name needs no string of it.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlySet<string>, byte[][]> KnownNames = new();

    private static bool IsKnown(JsonProperty property, byte[][] names)
    {
        try
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
        catch (InvalidOperationException)
        {
            // A name with a lone surrogate escape cannot be unescaped: it is no known field.
            return false;
        }
    }

    private bool TryGet(string field, out JsonElement value)
    {
        if (TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        value = default;
        return false;
    }

    private bool TryGetProperty(string field, out JsonElement value)
    {
        try
        {
            return element.TryGetProperty(field, out value);
        }
        catch (InvalidOperationException)
        {
            // The lookup unescapes names as it goes and throws at one that is not valid Unicode
            // (RejectUnknown reports that one): look among the names that are. The last one wins, as in the lookup.
            value = default;
            var found = false;
            foreach (var property in element.EnumerateObject())
            {
                if (NameOf(property) == field)
                {
                    value = property.Value;
                    found = true;
                }
            }
            return found;
        }
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
        if (value.ValueKind == JsonValueKind.String && Guid.TryParseExact(StringOrNull(value), "D", out var guid))
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
        if (value.ValueKind != JsonValueKind.String || !TryGetDateTimeOffset(value, out var timestamp))
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
        // Depth counts objects and arrays: metadata itself is level 1.
        if (depth > maxDepth && value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            return $"is nested deeper than {maxDepth} levels";
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    if (NameOf(property) is not { } name || name.Contains('\0') || !IsWellFormed(name))
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
            case JsonValueKind.Number:
                return IsStorableNumber(value) ? null : NumberProblem;
            default:
                return null;
        }
    }

    private static string Printable(string? name) =>
        name is null || name.Length > 64 || name.Any(char.IsControl) ? "(unnamed field)" : name;

    // System.Text.Json throws InvalidOperationException at a lone surrogate escape (\ud800) when it
    // unescapes a name or a string: hostile input, to be answered 400, never 500.

    /// <summary>A property's name, or null when it is not valid Unicode.</summary>
    private static string? NameOf(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string? StringOrNull(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool TryGetDateTimeOffset(JsonElement value, out DateTimeOffset timestamp)
    {
        try
        {
            return value.TryGetDateTimeOffset(out timestamp);
        }
        catch (InvalidOperationException)
        {
            timestamp = default;
            return false;
        }
    }

    private const int MaxNumberLength = 64;
    private const int MaxNumberExponent = 400;
    private static readonly string NumberProblem =
        $"has a number PostgreSQL cannot store; write numbers in at most {MaxNumberLength} characters with an exponent from -{MaxNumberExponent} to {MaxNumberExponent}";

    /// <summary>
    /// jsonb keeps numbers as numeric, which refuses more than 16383 digits after the point (1e-16384,
    /// 1.000…0) or 131072 before it (1e131072), failing the whole write. Every number JavaScript can
    /// produce (about ±1.8e308, down to 5e-324) is within these bounds, and a short literal cannot
    /// expand to megabytes of text when read back.
    /// </summary>
    private static bool IsStorableNumber(JsonElement value)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value);
        if (raw.Length > MaxNumberLength)
        {
            return false;
        }
        var e = raw.IndexOfAny((byte)'e', (byte)'E');
        return e < 0
               || (int.TryParse(raw[(e + 1)..], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var exponent)
                   && Math.Abs(exponent) <= MaxNumberExponent);
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$")]
    private static partial Regex IdentifierPattern();
}
