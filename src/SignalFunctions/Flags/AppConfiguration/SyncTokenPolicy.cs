using System.Collections.Concurrent;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// Real-time consistency (App Configuration REST, "Sync-Token"): every response carries
/// <c>id=value;sn=N</c> tokens; sending the newest value per id back makes the next read see every
/// write those tokens cover, so a reader reads its own writes. Azure.Data.AppConfiguration keeps the
/// same table internally; it is not available here.
/// </summary>
internal sealed class SyncTokenPolicy : HttpPipelinePolicy
{
    public const string HeaderName = "Sync-Token";

    private readonly ConcurrentDictionary<string, (string Value, long Sequence)> _tokens = new(StringComparer.Ordinal);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        AddTokens(message);
        ProcessNext(message, pipeline);
        Remember(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        AddTokens(message);
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        Remember(message);
    }

    /// <summary>Takes a token from elsewhere, e.g. an Event Grid notification's <c>syncToken</c>.</summary>
    public void Add(string header)
    {
        // Several tokens may arrive in one header, comma-separated.
        foreach (var token in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryParse(token, out var id, out var value, out var sequence))
            {
                // Versions are inclusive: only the highest sequence number per id matters.
                _tokens.AddOrUpdate(id, (value, sequence), (_, known) => sequence >= known.Sequence ? (value, sequence) : known);
            }
        }
    }

    public IReadOnlyDictionary<string, string> Current => _tokens.ToDictionary(t => t.Key, t => t.Value.Value, StringComparer.Ordinal);

    private void AddTokens(HttpMessage message)
    {
        if (!_tokens.IsEmpty)
        {
            // The request form has no sequence number: "id=value,id=value".
            message.Request.Headers.SetValue(HeaderName, string.Join(",", _tokens.Select(t => $"{t.Key}={t.Value.Value}")));
        }
    }

    private void Remember(HttpMessage message)
    {
        if (message.HasResponse && message.Response.Headers.TryGetValues(HeaderName, out var values))
        {
            foreach (var header in values)
            {
                Add(header);
            }
        }
    }

    private static bool TryParse(string token, out string id, out string value, out long sequence)
    {
        id = value = "";
        sequence = 0;
        var fields = token.Split(';', StringSplitOptions.TrimEntries);
        // The value is base64, so it may contain '=': the id ends at the first one.
        var equals = fields[0].IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            return false;
        }
        id = fields[0][..equals];
        value = fields[0][(equals + 1)..];
        foreach (var field in fields.Skip(1))
        {
            if (field.StartsWith("sn=", StringComparison.Ordinal) &&
                long.TryParse(field.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var sn))
            {
                sequence = sn;
            }
        }
        return true;
    }
}
