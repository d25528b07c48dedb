using System.Diagnostics;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using SignalFunctions.Brands;
using SignalFunctions.Flags;
using SignalFunctions.Migrations;
using SignalFunctions.Stages;

namespace SignalFunctions.Health;

/// <summary>
/// GET /api/health/details: is the database there, how old are the flags, and for each side of every
/// migration whether its tables answer, its recent write errors, and how old its parity report is.
/// GET /api/health, anonymous, says only up or down from the same report: its error texts and
/// names stay behind the function key.
/// The blue-green plan's rule, "old system down is critical, new system down is a warning", holds
/// before the new side takes over; <see cref="CriticalSides"/> reads it per stage as the sides the
/// app relies on, and a relied-on side down is critical, the other a warning.
/// </summary>
public static class HealthApi
{
    public sealed record DatabaseHealth(bool Reachable, double? LatencyMs, string? Error);

    /// <summary>Source: embedded, app-configuration or last-known-good. Rejected: flag key → why it keeps its previous value.</summary>
    public sealed record FlagHealth(string? Source, bool Loaded, double? AgeSeconds, string? LastError, IReadOnlyDictionary<string, StageHealth> Stages,
        string? Label, string? Etag, IReadOnlyDictionary<string, string> Rejected);

    public sealed record StageHealth(string Stage, int Percent, long Version);

    /// <param name="WriteFailures">This instance's failed writes to the side since it started.</param>
    /// <param name="Reachable">Whether every table of the side exists and can be read; null when the database is not.</param>
    /// <param name="Unreachable">The side's tables that cannot be read.</param>
    /// <param name="RecentErrors">Failed writes to the side queued for repair in the last 15 minutes, by any writer (capture triggers too).</param>
    public sealed record SideHealth(
        long WriteFailures, string? LastError, DateTimeOffset? LastFailureAt, bool? Reachable, IReadOnlyList<string> Unreachable, long? RecentErrors);

    /// <param name="Level">ok, warning (a side nothing relies on now is down) or critical (a side in <paramref name="CriticalSides"/> is).</param>
    /// <param name="CriticalSides">The sides whose outage is critical at this stage: legacy, new or both.</param>
    /// <param name="CutOver">Whether the old table is a view over the new side now.</param>
    public sealed record MigrationHealth(
        SideHealth Legacy, SideHealth New, long? RepairPending, double? ParityAgeSeconds, string Level, IReadOnlyList<string> CriticalSides, bool? CutOver);

    /// <summary>Reads compared with the other side in shadow and live (a sampled share), and how many differed.</summary>
    public sealed record ReadComparison(long Compared, long Mismatches, string? LastMismatch, DateTimeOffset? LastMismatchAt);

    /// <summary>Alerts: what needs a person now (a stage flag the app rejects), each saying what to do.</summary>
    public sealed record HealthReport(
        string Status, DatabaseHealth Database, FlagHealth Flags, IReadOnlyDictionary<string, MigrationHealth> Migrations,
        IReadOnlyDictionary<string, ReadComparison> ReadComparisons, IReadOnlyList<string> Alerts);

    /// <summary>What a liveness probe may learn: "up", or "down" when the full report is unhealthy.</summary>
    public sealed record Liveness(string Status);

    public static async Task<Results<Ok<Liveness>, JsonHttpResult<Liveness>>> GetLiveness(
        NpgsqlDataSource dataSource, FlagState flags, WriteHealth writes, ShadowReads shadowReads, CancellationToken ct) =>
        (await ReportAsync(dataSource, flags, writes, shadowReads, ct)).Status == Unhealthy
            ? TypedResults.Json(new Liveness("down"), statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(new Liveness("up"));

    public static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> Get(
        NpgsqlDataSource dataSource, FlagState flags, WriteHealth writes, ShadowReads shadowReads, CancellationToken ct)
    {
        var report = await ReportAsync(dataSource, flags, writes, shadowReads, ct);
        return report.Status == Unhealthy ? TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable) : TypedResults.Ok(report);
    }

    private const string Unhealthy = "unhealthy";

    private static async Task<HealthReport> ReportAsync(
        NpgsqlDataSource dataSource, FlagState flags, WriteHealth writes, ShadowReads shadowReads, CancellationToken ct)
    {
        DatabaseHealth database;
        Dictionary<string, long>? pending = null;
        SideFacts? facts = null;
        var watch = Stopwatch.StartNew();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            pending = (await connection.QueryAsync<(string Migration, long Count)>(new CommandDefinition(
                    "SELECT migration, count(*) FROM repair_entries WHERE resolved_at IS NULL GROUP BY migration",
                    cancellationToken: timeout.Token)))
                .ToDictionary(r => r.Migration, r => r.Count);
            database = new DatabaseHealth(true, Math.Round(watch.Elapsed.TotalMilliseconds, 1), null);
            facts = await SideFacts.ReadAsync(connection, timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            database = new DatabaseHealth(false, null, ex.Message);
        }

        var snapshot = flags.Current;
        var flagHealth = new FlagHealth(
            snapshot?.Source, snapshot is not null, flags.Age is { } age ? Math.Round(age.TotalSeconds, 1) : null, flags.LastError,
            snapshot?.Flags.ToDictionary(f => f.Key, f => new StageHealth(f.Value.Stage.Name(), f.Value.Percent, f.Value.Version))
            ?? new Dictionary<string, StageHealth>(),
            snapshot?.Label, snapshot?.ETag, snapshot?.Rejected ?? new Dictionary<string, string>());

        var migrations = KnownMigrations.Names.ToDictionary(m => m, m =>
        {
            var legacy = Side(m, Stages.Side.Legacy, writes, facts);
            var fresh = Side(m, Stages.Side.New, writes, facts);
            var cutOver = facts?.CutOver.Contains(m);
            var critical = CriticalSides(MigrationCatalog.Find(m), snapshot?.Flags.GetValueOrDefault(m), cutOver ?? false);
            bool Down(Stages.Side side) => (side == Stages.Side.Legacy ? legacy : fresh).Reachable == false;
            var level = critical.Any(Down) ? "critical" : Down(Stages.Side.Legacy) || Down(Stages.Side.New) ? "warning" : "ok";
            return new MigrationHealth(legacy, fresh, pending?.GetValueOrDefault(m), facts?.ParityAge(m), level,
                critical.Select(s => s.Name()).ToList(), cutOver);
        });

        var healthy = database.Reachable && snapshot is not null && migrations.Values.All(m => m.Level != "critical");
        var anyFailures = migrations.Values.Any(m => m.Legacy.WriteFailures + m.New.WriteFailures > 0 || m.RepairPending > 0 || m.Level != "ok");
        var comparisons = shadowReads.All.ToDictionary(c => c.Key, c => new ReadComparison(
            Interlocked.Read(ref c.Value.Compared), Interlocked.Read(ref c.Value.Mismatches), c.Value.LastMismatch, c.Value.LastMismatchAt));
        var alerts = flagHealth.Rejected.Select(r => Guard.StageGuard.RejectedFlagAlert(r.Key, r.Value)).ToList();
        return new HealthReport(healthy ? (anyFailures || alerts.Count > 0 ? "degraded" : "healthy") : Unhealthy,
            database, flagHealth, migrations, comparisons, alerts);
    }

    /// <summary>
    /// The sides a migration relies on: where its writes land first and where its reads come from,
    /// at the flag's stage and, in a partial rollout, at the previous one too (the rest of the
    /// entities are there). Before live that is the old side alone (the plan's rule); from live the
    /// new side is authoritative and read, so it is critical. Outside writers (a capture) keep
    /// writing the old table until the cut-over, so it stays critical for them too; after the
    /// cut-over the old name is a view over the new side, which alone is authoritative. Without a
    /// flag nothing has moved: the old side.
    /// </summary>
    public static IReadOnlyList<Stages.Side> CriticalSides(DataMigration? m, StageFlag? flag, bool cutOver)
    {
        if (cutOver)
        {
            return [Stages.Side.New];
        }
        if (flag is null)
        {
            return [Stages.Side.Legacy];
        }
        Stage[] stages = flag.Percent >= 100 ? [flag.Stage] : [flag.Stage, flag.Stage.Previous()];
        var sides = stages.SelectMany(s => new[] { s.WritePlan().Authoritative, s.ReadSide() }).ToHashSet();
        if (m?.InstallCaptureSql is not null)
        {
            sides.Add(Stages.Side.Legacy);
        }
        return [.. sides.Order()];
    }

    private static SideHealth Side(string migration, Stages.Side side, WriteHealth writes, SideFacts? facts)
    {
        var counters = writes.For(migration, side);
        var tables = MigrationCatalog.Find(migration)?.TablesOf(side) ?? [];
        var unreachable = facts is null ? [] : tables.Where(t => !facts.Readable.GetValueOrDefault(t)).ToList();
        return new SideHealth(Interlocked.Read(ref counters.Failures), counters.LastError, counters.LastFailureAt,
            facts is null ? null : unreachable.Count == 0, unreachable, facts?.RecentErrors.GetValueOrDefault((migration, side.Name())));
    }

    /// <summary>What the database says about every migration's sides, in four queries for all of them.</summary>
    private sealed record SideFacts(
        IReadOnlyDictionary<string, bool> Readable, IReadOnlyDictionary<(string, string), long> RecentErrors, IReadOnlyDictionary<string, double> ParityAges,
        IReadOnlySet<string> CutOver)
    {
        public double? ParityAge(string migration) => ParityAges.TryGetValue(migration, out var age) ? Math.Round(age, 1) : null;

        public static async Task<SideFacts> ReadAsync(NpgsqlConnection connection, CancellationToken ct)
        {
            var tables = MigrationCatalog.All.SelectMany(m => m.TablesOf(Stages.Side.Legacy).Concat(m.TablesOf(Stages.Side.New))).Distinct().ToArray();
            // A table that was dropped or renamed, or that this role may no longer read, is down.
            var readable = (await connection.QueryAsync<(string Table, bool Readable)>(new CommandDefinition("""
                SELECT t, coalesce(to_regclass(t) IS NOT NULL AND has_table_privilege(to_regclass(t), 'SELECT'), false)
                  FROM unnest(@tables) AS t
                """, new { tables }, cancellationToken: ct))).ToDictionary(r => r.Table, r => r.Readable);
            var errors = (await connection.QueryAsync<(string Migration, string Side, long Count)>(new CommandDefinition("""
                SELECT migration, target_side, count(*) FROM repair_entries
                 WHERE created_at > now() - interval '15 minutes' GROUP BY 1, 2
                """, cancellationToken: ct))).ToDictionary(r => (r.Migration, r.Side), r => r.Count);
            // Whole-table reports only: one partition compared says nothing of the rest.
            var ages = (await connection.QueryAsync<(string Migration, double Age)>(new CommandDefinition("""
                SELECT migration, extract(epoch FROM now() - max(finished_at))::float8 FROM parity_reports WHERE scope IS NULL GROUP BY migration
                """, cancellationToken: ct))).ToDictionary(r => r.Migration, r => r.Age);
            var cutOver = (await connection.QueryAsync<string>(new CommandDefinition("SELECT migration FROM cutovers", cancellationToken: ct))).ToHashSet();
            return new SideFacts(readable, errors, ages, cutOver);
        }
    }
}
