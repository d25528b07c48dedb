namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// Tests that measure time (propagation within a second, rate-limit windows) run in this
/// collection: alone, after the parallel ones, so a load test next door cannot make them lie.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}
