using System.Security.Cryptography;
using System.Text;

namespace SignalFunctions.Ingest;

/// <summary>
/// Journeys for events that arrive without a signal_id (the legacy payload, legacy rows): one
/// legacy session becomes one journey. A name-based UUID (RFC 4122 version 5), the same value
/// PostgreSQL's uuid_generate_v5(namespace, session_id) gives, so the backfill's SQL agrees.
/// Written by hand: .NET has no version-5 UUID and no package here offers one.
/// </summary>
public static class JourneyKeys
{
    /// <summary>The namespace of session-derived journeys. Never change it: existing journeys depend on it.</summary>
    public static readonly Guid SessionNamespace = new("0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20");

    public static Guid FromSession(string sessionId) => NameBased(SessionNamespace, sessionId);

    public static Guid NameBased(Guid @namespace, string name)
    {
        var namespaceBytes = @namespace.ToByteArray(bigEndian: true);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[namespaceBytes.Length + nameBytes.Length];
        namespaceBytes.CopyTo(input, 0);
        nameBytes.CopyTo(input, namespaceBytes.Length);
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 version 5 specifies; this is an identifier, not security.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
