using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Dapper;
using SignalFunctions.Ingest;

namespace SignalFunctions.Migrations;

/// <summary>Settings under "Migrations:" for the engine's jobs.</summary>
public sealed class MigrationOptions
{
    /// <summary>How long one timer run may work before it stops cleanly (Consumption's timeout is 5 minutes).</summary>
    [Range(5, 3600)]
    public int BudgetSeconds { get; set; } = 240;

    /// <summary>
    /// The batch duration the backfill adapts its batch size to. Short, so a concurrent ingest
    /// request never waits long behind a batch (measured: 300 ms doubled ingest's p99); each batch
    /// costs a few round trips and a commit more, which alone cost no measurable speed.
    /// </summary>
    [Range(10, 60_000)]
    public int TargetBatchMilliseconds { get; set; } = 50;

    [Range(10, 1_000_000)]
    public int MinBatchSize { get; set; } = 100;

    [Range(10, 1_000_000)]
    public int MaxBatchSize { get; set; } = 50_000;

    /// <summary>
    /// While other sessions are at work (ingest), the backfill pauses after each batch for at least
    /// this multiple of the batch's duration, so their latency holds; 0 never yields. Alone, it runs
    /// flat out. <see cref="MaxIngestSlowdown"/> raises the multiple while ingest slows down.
    /// </summary>
    [Range(0, 100)]
    public double YieldRatio { get; set; } = 2;

    /// <summary>
    /// How much slower ingest may answer (p99) while the backfill copies than while it pauses; above
    /// it the backfill yields longer after each batch (<see cref="IngestYield"/>). 0 keeps the fixed
    /// <see cref="YieldRatio"/>. Needs the guard's measurements (Guard__Enabled).
    /// </summary>
    [Range(0, 100)]
    public double MaxIngestSlowdown { get; set; } = 2;

    /// <summary>
    /// The longest the backfill yields after a batch, as a multiple of its duration: however slow
    /// ingest gets, it goes on, and a backfill that crawls lets ingest grow the tables it must
    /// cover (ingest slows with their size, not with the backfill, past this point: BENCHMARKS.md).
    /// </summary>
    [Range(0, 1000)]
    public double MaxYieldRatio { get; set; } = 10;

    /// <summary>Pause the backfill while more backends than this are active in the database.</summary>
    [Range(1, 10_000)]
    public int MaxActiveBackends { get; set; } = 32;

    /// <summary>Pause while more sessions than this wait on locks.</summary>
    [Range(0, 10_000)]
    public int MaxLockWaits { get; set; } = 4;

    /// <summary>Pause while a replica lags more than this (seconds); ignored without replicas.</summary>
    [Range(0, 86_400)]
    public double MaxReplicaLagSeconds { get; set; } = 10;

    /// <summary>Rows written within this many seconds are left out of parity, so in-flight writes are no false alarm.</summary>
    [Range(0, 3600)]
    public int ParityFenceSeconds { get; set; } = 5;

    /// <summary>
    /// Differing buckets holding at most this many rows are compared key by key at once, instead of
    /// being split into finer buckets first: one narrow scan per side instead of two.
    /// </summary>
    [Range(0, 10_000_000)]
    public int ParityDirectRows { get; set; } = 100_000;

    /// <summary>Most keys listed per kind (missing, extra, different) in a parity report; counts stay exact.</summary>
    [Range(1, 100_000)]
    public int ParityKeyListLimit { get; set; } = 1000;

    /// <summary>
    /// Migrations:Arguments:{migration}:{argument}: values for the arguments a declaration declares
    /// (<see cref="DataMigration.Arguments"/>), e.g. Migrations__Arguments__intelligence-events__windowDays=30.
    /// Names match case-insensitively, and '_' stands for '-' in a migration's name (for hosts whose
    /// setting names allow no '-'). Checked at start-up by <see cref="ArgumentsValidator"/>.
    /// </summary>
    public Dictionary<string, Dictionary<string, string?>> Arguments { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public const string MaxEventsPerClickArgument = "maxEventsPerClick";

    /// <summary>
    /// Values declaration SQL reads as @name beside the engine's own parameters, for settings that
    /// belong to another capability: the click-events rebuild must cap the chronology exactly as
    /// ingest does, so it reads ingest's setting (copied in at start-up) rather than a second one.
    /// </summary>
    public Dictionary<string, object> SqlArguments { get; } = new(StringComparer.Ordinal)
    {
        [MaxEventsPerClickArgument] = new ClickOptions().MaxEventsPerClick,
    };

    /// <summary>The value of one of <paramref name="m"/>'s arguments: as configured, else its default.</summary>
    public int ArgumentOf(DataMigration m, MigrationArgument argument) =>
        Configured(m.Name, argument.Name) is { } text && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : argument.Default;

    private string? Configured(string migration, string argument) =>
        Arguments.Where(a => SameMigration(a.Key, migration))
            .SelectMany(a => a.Value)
            .Where(a => string.Equals(a.Key, argument, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Value)
            .LastOrDefault();

    internal static bool SameMigration(string configured, string migration) =>
        string.Equals(configured.Replace('_', '-'), migration, StringComparison.OrdinalIgnoreCase);

    /// <summary>The parameters for one statement of <paramref name="m"/>: <see cref="SqlArguments"/>, its own arguments, then the engine's.</summary>
    public DynamicParameters ArgumentsWith(DataMigration m, object? engineArguments)
    {
        var parameters = new DynamicParameters(SqlArguments);
        foreach (var argument in m.Arguments)
        {
            parameters.Add(argument.Name, ArgumentOf(m, argument));
        }
        if (engineArguments is not null)
        {
            parameters.AddDynamicParams(engineArguments);
        }
        return parameters;
    }
}
