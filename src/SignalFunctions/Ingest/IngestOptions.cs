using System.ComponentModel.DataAnnotations;

namespace SignalFunctions.Ingest;

/// <summary>Settings under "Ingest:" (environment: Ingest__Name).</summary>
public sealed class IngestOptions
{
    /// <summary>Largest request body accepted; the contract is 64 KiB.</summary>
    [Range(1024, 1 << 20)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Browser origins allowed to send events, e.g. "https://www.example.com". "http://localhost:*"
    /// allows any port. A request from any other origin is refused with 403 and written nowhere.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Requests per second per client IP (token bucket); 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int RateLimitPerSecond { get; set; } = 100;

    /// <summary>How many requests one client IP may send at once above the steady rate.</summary>
    [Range(1, 1_000_000)]
    public int RateLimitBurst { get; set; } = 400;

    /// <summary>Group-commit writers working at once; each holds one connection while it commits.</summary>
    [Range(1, 16)]
    public int Writers { get; set; } = 2;

    /// <summary>
    /// Events that must be waiting before a second writer starts a group of its own. Below it the
    /// first writer alone makes fewer, larger transactions, which costs PostgreSQL less per event.
    /// </summary>
    [Range(1, 100_000)]
    public int ParallelGroupEvents { get; set; } = 200;

    /// <summary>Most events committed in one transaction.</summary>
    [Range(1, 100_000)]
    public int MaxGroupEvents { get; set; } = 2000;

    /// <summary>Retry-After, in seconds, on a 503 while the database is unreachable.</summary>
    [Range(1, 300)]
    public int RetryAfterSeconds { get; set; } = 5;
}
