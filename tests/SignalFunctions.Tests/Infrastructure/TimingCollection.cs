namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// Tests that measure time (poll intervals, rate-limit windows, how fast a 503 comes) run in this
/// collection: alone, after the parallel ones, so a load test next door cannot make them lie.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}
