using System.Diagnostics;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

/// <summary>
/// bench/flags.sh --eval: what routing one journey costs on ingest's hot path, in ns
/// per evaluation, single-threaded: Microsoft.FeatureManagement's variant (the partial rollout) vs
/// the bare SHA-256 bucket it computes, and the 100 % short-circuit. Median of 7 runs of 200,000.
/// </summary>
internal static class EvalBench
{
    private const int PerRun = 200_000;
    private const int Runs = 7;

    public static async Task RunAsync()
    {
        var keys = Enumerable.Range(0, 4096).Select(_ => Guid.NewGuid().ToString("D")).ToArray();
        var partial = Route(Stage.Live, 50);
        var whole = Route(Stage.Live, 100);
        var flag = partial.Flag;
        var sink = 0;

        var rows = new List<(string Name, double Ns)>
        {
            ("FeatureManagement variant (live 50 %)", await TimeAsync(async i => sink += (int)await partial.StageForAsync(keys[i & 4095], CancellationToken.None))),
            ("direct bucket, StageFlag.StageFor (live 50 %)", await TimeAsync(i => { sink += (int)flag.StageFor(keys[i & 4095]); return ValueTask.CompletedTask; })),
            ("short-circuit (live 100 %)", await TimeAsync(async i => sink += (int)await whole.StageForAsync(keys[i & 4095], CancellationToken.None))),
        };
        Console.WriteLine($"ns per evaluation, median of {Runs} × {PerRun:N0}, one thread, {Environment.ProcessorCount} cores (checksum {sink})");
        foreach (var (name, ns) in rows)
        {
            Console.WriteLine($"{name,-48}{ns,10:0}");
        }
    }

    private static StageRoute Route(Stage stage, int percent)
    {
        var state = new FlagState(TimeProvider.System);
        state.Apply(new FlagSnapshot(new Dictionary<string, StageFlag>
        {
            [KnownMigrations.SignalEvents] = new(KnownMigrations.SignalEvents, stage, percent, 1, DateTimeOffset.UtcNow),
        }, "bench", DateTimeOffset.UtcNow));
        return new StageRouter(state).For(KnownMigrations.SignalEvents);
    }

    private static async Task<double> TimeAsync(Func<int, ValueTask> evaluate)
    {
        for (var i = 0; i < PerRun; i++)
        {
            await evaluate(i); // warm-up: tiered JIT, caches
        }
        var times = new List<double>();
        for (var run = 0; run < Runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < PerRun; i++)
            {
                await evaluate(i);
            }
            times.Add(Stopwatch.GetElapsedTime(started).TotalNanoseconds / PerRun);
        }
        times.Sort();
        return times[Runs / 2];
    }
}
