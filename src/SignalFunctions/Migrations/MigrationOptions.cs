using System.ComponentModel.DataAnnotations;
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
    /// request never waits long behind a batch (issue 3 §8: 300 ms doubled ingest's p99); each batch
    /// costs a few round trips and a commit more, which alone cost no measurable speed.
    /// </summary>
    [Range(10, 60_000)]
    public int TargetBatchMilliseconds { get; set; } = 50;

    [Range(10, 1_000_000)]
    public int MinBatchSize { get; set; } = 100;

    [Range(10, 1_000_000)]
    public int MaxBatchSize { get; set; } = 50_000;

    /// <summary>
    /// While other sessions are at work (ingest), the backfill pauses after each batch for this
    /// multiple of the batch's duration, so their latency holds; 0 never yields. Alone, it runs flat out.
    /// </summary>
    [Range(0, 100)]
    public double YieldRatio { get; set; } = 2;

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

    /// <summary>How many days back intelligence-events derives campaigns from (the plan's 90-day backfill); SQL reads it as @intelligenceWindowDays.</summary>
    [Range(1, 36_500)]
    public int IntelligenceWindowDays { get; set; } = 90;

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

    /// <summary>The parameters for one declaration statement: <see cref="SqlArguments"/> plus the engine's own.</summary>
    public DynamicParameters ArgumentsWith(object? engineArguments)
    {
        var parameters = new DynamicParameters(SqlArguments);
        parameters.Add("intelligenceWindowDays", IntelligenceWindowDays);
        if (engineArguments is not null)
        {
            parameters.AddDynamicParams(engineArguments);
        }
        return parameters;
    }
}
