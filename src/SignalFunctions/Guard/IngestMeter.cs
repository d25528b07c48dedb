using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Guard;

/// <summary>
/// This instance's ingest measurements per migration and flag version (a stage change is a new
/// version, so a new window): requests, 5xx answers, a latency histogram, secondary writes and
/// their failures. The hot path pays a dictionary lookup and a few Interlocked adds.
/// <para>
/// Saved to PostgreSQL rather than judged per instance: in Azure the Guard timer fires on one
/// instance while every instance takes traffic, so one instance's numbers would miss the others'
/// errors, and scaled out none might reach the minimum sample. Each instance overwrites its own
/// totals in guard_windows every few seconds (<see cref="GuardWindowFlusher"/>): one small upsert
/// per migration and flush, nothing per request, and the guard sums the current version's rows.
/// </para>
/// </summary>
public sealed class IngestMeter(FlagState flags, IOptions<GuardOptions> options)
{
    private readonly ConcurrentDictionary<(string Migration, long Version), Window> _windows = new();

    /// <summary>Unique per process: a restarted process starts new totals instead of overwriting the old ones.</summary>
    public string Instance { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>One answered ingest request; client errors (4xx) are the sender's, not the stage's, and are left out.</summary>
    public void Answered(string migration, IResult result, long startedTimestamp) =>
        Answered(migration, (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK, startedTimestamp);

    public void Answered(string migration, int statusCode, long startedTimestamp)
    {
        if (!options.Value.Enabled || statusCode is >= 400 and < 500
            || flags.Current?.Flags.GetValueOrDefault(migration) is not { } flag)
        {
            return;
        }
        var window = For(migration, flag.Version);
        Interlocked.Increment(ref window.Requests);
        if (statusCode >= 500)
        {
            Interlocked.Increment(ref window.ServerErrors);
        }
        Interlocked.Increment(ref window.Latency[LatencyBuckets.IndexOf(Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds)]);
        window.Changed = true;
    }

    /// <summary>Secondary writes attempted under this flag, and how many of them failed (and were queued for repair).</summary>
    public void SecondaryWrites(StageFlag flag, int writes, int failed)
    {
        if (!options.Value.Enabled || writes == 0)
        {
            return;
        }
        var window = For(flag.Migration, flag.Version);
        Interlocked.Add(ref window.SecondaryWrites, writes);
        Interlocked.Add(ref window.SecondaryFailures, failed);
        window.Changed = true;
    }

    private Window For(string migration, long version) => _windows.GetOrAdd((migration, version), _ => new Window());

    /// <summary>Saves every window that changed since the last flush; forgets windows of versions no longer current.</summary>
    public async Task FlushAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var changed = _windows.Where(w => w.Value.Changed).ToList();
        if (changed.Count > 0)
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            foreach (var ((migration, version), window) in changed)
            {
                window.Changed = false;
                try
                {
                    await SaveAsync(connection, migration, version, window, ct);
                }
                catch
                {
                    window.Changed = true;
                    throw;
                }
            }
        }
        foreach (var ((migration, version), window) in _windows)
        {
            if (!window.Changed && flags.Current?.Flags.GetValueOrDefault(migration)?.Version != version)
            {
                _windows.TryRemove((migration, version), out _);
            }
        }
    }

    private async Task SaveAsync(NpgsqlConnection connection, string migration, long version, Window window, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO guard_windows (migration, flag_version, instance, requests, server_errors, secondary_writes, secondary_failures, latency_buckets)
            VALUES (@migration, @version, @instance, @requests, @serverErrors, @secondaryWrites, @secondaryFailures, @latency)
            ON CONFLICT (migration, flag_version, instance) DO UPDATE SET
              requests = EXCLUDED.requests, server_errors = EXCLUDED.server_errors,
              secondary_writes = EXCLUDED.secondary_writes, secondary_failures = EXCLUDED.secondary_failures,
              latency_buckets = EXCLUDED.latency_buckets, updated_at = now()
            """, new
        {
            migration, version, instance = Instance,
            requests = Interlocked.Read(ref window.Requests), serverErrors = Interlocked.Read(ref window.ServerErrors),
            secondaryWrites = Interlocked.Read(ref window.SecondaryWrites), secondaryFailures = Interlocked.Read(ref window.SecondaryFailures),
            // 64-bit reads are atomic; a count a moment old is as good as any.
            latency = window.Latency.ToArray(),
        }, cancellationToken: ct));

    private sealed class Window
    {
        public long Requests;
        public long ServerErrors;
        public long SecondaryWrites;
        public long SecondaryFailures;
        public readonly long[] Latency = new long[LatencyBuckets.Count];
        public volatile bool Changed;
    }
}
