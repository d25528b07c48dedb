using SignalFunctions.Migrations;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// Keeps every backfill progress report in order, as it is made (Progress&lt;T&gt; would post them to
/// the thread pool, out of order and possibly after the run), then runs <paramref name="then"/> on it.
/// </summary>
public sealed class SyncProgress(List<BackfillProgress> into, Action<BackfillProgress>? then = null) : IProgress<BackfillProgress>
{
    public void Report(BackfillProgress value)
    {
        into.Add(value);
        then?.Invoke(value);
    }
}
